/**
 * Several brokers in one app (named connections) and topics from configuration, against two
 * real brokers at once: each connection's keys reach its own broker, handlers receive only from
 * theirs, events and logs say which connection, and shutdown closes both.
 */
import { Injectable, type ModuleMetadata } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  InjectMqtt,
  MqttConfigError,
  MqttModule,
  MqttService,
  MqttSubscribeError,
  OnMqttConnect,
  Payload,
  Subscribe,
  TopicParam,
  type MqttEvent,
} from 'nestjs-mqtt';
import {
  CaptureLogger,
  closeApp,
  closeClient,
  connectClient,
  randomClientId,
  rejectionOf,
  startAedes,
  until,
  type AedesBroker,
} from './support';

@Injectable()
class TwoBrokerHandlers {
  readonly primary: string[] = [];
  readonly backup: string[] = [];
  readonly connects: MqttEvent[] = [];

  constructor(@InjectMqtt('backup') readonly backupMqtt: MqttService) {}

  @Subscribe('plant/+id/temp')
  onPrimary(@TopicParam('id') id: string, @Payload() text: string): void {
    this.primary.push(`${id}=${text}`);
  }

  @Subscribe('plant/+id/temp', { connection: 'backup' })
  onBackup(@TopicParam('id') id: string, @Payload() text: string): void {
    this.backup.push(`${id}=${text}`);
  }

  @OnMqttConnect()
  onConnect(event: MqttEvent): void {
    this.connects.push(event);
  }
}

@Injectable()
class SiteHandler {
  readonly received: string[] = [];
  @Subscribe('${SITE_ROOT}/sensors/+id', { qos: 1 })
  onReading(@TopicParam('id') id: string): void {
    this.received.push(id);
  }
}

@Injectable()
class MissingKeyHandler {
  @Subscribe('${NO_SUCH_KEY}/x')
  on(): void {}
}

@Injectable()
class UnknownConnectionHandler {
  @Subscribe('a/b', { connection: 'nowhere' })
  on(): void {}
}

/** Apps a test started; closed after each test, also when an assertion failed first. */
const started: TestingModule[] = [];
afterEach(async () => {
  for (const app of started.splice(0)) await closeApp(app);
});

async function start(
  imports: NonNullable<ModuleMetadata['imports']>,
  providers: NonNullable<ModuleMetadata['providers']> = [],
): Promise<{ app: TestingModule; logger: CaptureLogger }> {
  const logger = new CaptureLogger();
  const app = await Test.createTestingModule({ imports, providers }).setLogger(logger).compile();
  started.push(app);
  try {
    await app.init();
  } catch (error) {
    await closeApp(app);
    throw error;
  }
  return { app, logger };
}

describe('named connections: two brokers in one app', () => {
  let a: AedesBroker;
  let b: AedesBroker;
  const clients = new Map<AedesBroker, string[]>();

  beforeAll(async () => {
    [a, b] = await Promise.all([startAedes(), startAedes()]);
    for (const broker of [a, b]) {
      clients.set(broker, []);
      broker.broker.on('client', (c) => clients.get(broker)!.push(c.id));
    }
  });
  afterAll(() => Promise.all([a.stop(), b.stop()]));

  it('forRoot({ name }): each connection reaches its own broker, handlers receive only from theirs, @InjectMqtt publishes on its broker, shutdown closes both', async () => {
    const idA = randomClientId('primary');
    const idB = randomClientId('backup');
    const { app, logger } = await start(
      [
        MqttModule.forRoot({ MQTT_BROKER_PORT: a.port, MQTT_CLIENT_ID: idA }),
        MqttModule.forRoot({ name: 'backup', MQTT_BROKER_PORT: b.port, MQTT_CLIENT_ID: idB }),
      ],
      [TwoBrokerHandlers],
    );
    const handlers = app.get(TwoBrokerHandlers);
    const primary = app.get(MqttService);
    expect(primary.name).toBe('default');
    expect(handlers.backupMqtt.name).toBe('backup');
    expect(clients.get(a)).toContain(idA);
    expect(clients.get(a)).not.toContain(idB);
    expect(clients.get(b)).toContain(idB);
    expect(clients.get(b)).not.toContain(idA);

    await primary.publish('plant/p1/temp', 'on A', { qos: 1 });
    await handlers.backupMqtt.publish('plant/p2/temp', 'on B', { qos: 1 });
    const onA = await connectClient(a.url);
    await onA.publishAsync('plant/p3/temp', 'from a client of A', { qos: 1 });
    await closeClient(onA);
    await until('both handlers to receive', () => handlers.primary.length === 2);
    await until('the backup handler to receive', () => handlers.backup.length === 1);
    expect(handlers.primary).toEqual(['p1=on A', 'p3=from a client of A']);
    expect(handlers.backup).toEqual(['p2=on B']);

    // Events of the named connection say which; the default connection's stay as before.
    expect(handlers.connects).toEqual(
      expect.arrayContaining([
        { type: 'connect', sessionPresent: false, broker: `mqtt://localhost:${a.port}` },
        {
          type: 'connect',
          sessionPresent: false,
          broker: `mqtt://localhost:${b.port}`,
          connection: 'backup',
        },
      ]),
    );
    expect(logger.lines.some((l) => l.context === 'MqttModule:backup')).toBe(true);
    expect(primary.status().name).toBe('default');
    expect(handlers.backupMqtt.status()).toMatchObject({ name: 'backup', state: 'connected' });

    await app.close();
    expect(primary.state).toBe('closed');
    expect(handlers.backupMqtt.state).toBe('closed');
  });

  it('forRootAsync({ name, configPrefix }): reads MQTT2_* keys through ConfigService, and errors name the prefixed key', async () => {
    const idB = randomClientId('prefixed');
    const { app } = await start([
      ConfigModule.forRoot({
        ignoreEnvFile: true,
        load: [
          () => ({
            MQTT_BROKER_PORT: a.port,
            MQTT2_BROKER_URL: '127.0.0.1',
            MQTT2_BROKER_PORT: b.port,
            MQTT2_CLIENT_ID: idB,
          }),
        ],
      }),
      MqttModule.forRootAsync(),
      MqttModule.forRootAsync({ name: 'backup', configPrefix: 'MQTT2' }),
    ]);
    const backup = app.get<MqttService>('nestjs-mqtt:service:backup');
    expect(backup.clientId).toBe(idB);
    expect(clients.get(b)).toContain(idB);
    await app.close();

    const error = await rejectionOf(
      start([
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ MQTT_BROKER_PORT: a.port, MQTT2_BROKER_PORT: 'abc' })],
        }),
        MqttModule.forRootAsync(),
        MqttModule.forRootAsync({ name: 'backup', configPrefix: 'MQTT2' }),
      ]),
    );
    expect(error).toBeInstanceOf(MqttConfigError);
    expect(error.message).toContain('MQTT2_BROKER_PORT must be a whole number from 1 to 65535');
    expect(error.message).not.toMatch(/\bMQTT_BROKER_PORT\b/);
  });

  it('a handler naming an unknown connection is a bootstrap error naming the handler and the connection', async () => {
    const error = await rejectionOf(
      start([MqttModule.forRoot({ MQTT_BROKER_PORT: a.port })], [UnknownConnectionHandler]),
    );
    expect(error).toBeInstanceOf(MqttSubscribeError);
    expect(error.message).toContain(
      'UnknownConnectionHandler.on subscribes on the MQTT connection "nowhere"',
    );
  });
});

describe('topics from configuration', () => {
  let broker: AedesBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(() => broker.stop());

  it('${SITE_ROOT} in a filter is read through ConfigService when the module boots', async () => {
    const { app, logger } = await start(
      [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ MQTT_BROKER_PORT: broker.port, SITE_ROOT: 'site-7' })],
        }),
        MqttModule.forRootAsync(),
      ],
      [SiteHandler],
    );
    try {
      const mqtt = app.get(MqttService);
      expect(mqtt.topics).toEqual(['site-7/sensors/+']);
      expect(logger.mqtt('log')).toContain(
        'Subscribed SiteHandler.onReading to site-7/sensors/+id',
      );
      await mqtt.publish('site-7/sensors/t1', 'x', { qos: 1 });
      await mqtt.publish('site-8/sensors/t2', 'x', { qos: 1 });
      await until('the reading', () => app.get(SiteHandler).received.length === 1);
      expect(app.get(SiteHandler).received).toEqual(['t1']);
    } finally {
      await app.close();
    }
  });

  it('a missing key is a bootstrap error naming the handler and the key', async () => {
    const error = await rejectionOf(
      start(
        [
          ConfigModule.forRoot({
            ignoreEnvFile: true,
            load: [() => ({ MQTT_BROKER_PORT: broker.port })],
          }),
          MqttModule.forRootAsync(),
        ],
        [MissingKeyHandler],
      ),
    );
    expect(error).toBeInstanceOf(MqttSubscribeError);
    expect(error.message).toContain('MissingKeyHandler.on subscribes to "${NO_SUCH_KEY}/x"');
    expect(error.message).toContain('Set NO_SUCH_KEY');
  });
});

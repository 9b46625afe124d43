/**
 * `nestjs-mqtt/health` behind a real @nestjs/terminus endpoint over HTTP (Express): up while
 * connected, down within seconds of the broker (a private Mosquitto) being SIGKILLed, up again
 * once it is back; with `maxMessageAge`, down when messages stop coming.
 */
import { Controller, Get, Injectable, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { MqttModule, Subscribe } from 'nestjs-mqtt';
import { MqttHealthIndicator, type MqttConnectionHealth } from 'nestjs-mqtt/health';
import {
  CaptureLogger,
  closeClient,
  connectClient,
  describeWithMosquitto,
  startMosquitto,
  type MosquittoBroker,
} from './support';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mqtt: MqttHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.mqtt.isHealthy('mqtt')]);
  }

  @Get('all')
  @HealthCheck()
  all() {
    return this.health.check([
      () => this.mqtt.isHealthy('mqtt', { connections: ['default', 'backup'] }),
    ]);
  }

  @Get('unknown')
  @HealthCheck()
  unknown() {
    return this.health.check([() => this.mqtt.isHealthy('mqtt', { connections: ['nope'] })]);
  }

  @Get('fresh')
  @HealthCheck()
  fresh() {
    return this.health.check([() => this.mqtt.isHealthy('mqtt', { maxMessageAge: 700 })]);
  }
}

@Injectable()
class Readings {
  @Subscribe('readings/#', { qos: 1 })
  onReading(): void {}
}

interface HealthBody {
  status: string;
  details: { mqtt: { status: string; connections: Record<string, MqttConnectionHealth> } };
}

/** GETs `url` every 50 ms until the HTTP status is `want`; returns that response and when. */
async function pollHealth(
  url: string,
  want: number,
  timeoutMs: number,
): Promise<{ body: HealthBody; at: number }> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    const response = await fetch(url);
    const text = await response.text();
    if (response.status === want) return { body: JSON.parse(text) as HealthBody, at: Date.now() };
    last = `${response.status} ${text}`;
    if (Date.now() > deadline) {
      throw new Error(`GET ${url} did not answer ${want} within ${timeoutMs} ms; last: ${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describeWithMosquitto('MqttHealthIndicator over HTTP (@nestjs/terminus, Express)', () => {
  let broker: MosquittoBroker;
  let backup: MosquittoBroker;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    [broker, backup] = await Promise.all([startMosquitto(), startMosquitto()]);
    const reconnect = { MQTT_RECONNECT_PERIOD: 1, MQTT_RECONNECT_MAX_PERIOD: 1 };
    const module = await Test.createTestingModule({
      imports: [
        TerminusModule,
        MqttModule.forRoot({
          MQTT_BROKER_URL: '127.0.0.1',
          MQTT_BROKER_PORT: broker.port,
          MQTT_KEEPALIVE: 5,
          ...reconnect,
        }),
        MqttModule.forRoot({
          name: 'backup',
          MQTT_BROKER_URL: '127.0.0.1',
          MQTT_BROKER_PORT: backup.port,
          ...reconnect,
        }),
      ],
      controllers: [HealthController],
      providers: [MqttHealthIndicator, Readings],
    })
      .setLogger(new CaptureLogger())
      .compile();
    app = module.createNestApplication({ logger: new CaptureLogger() });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    base = `http://127.0.0.1:${port}/health`;
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all([broker?.stop(), backup?.stop()]);
  });

  it('answers 200 "up" with the connection details while connected', async () => {
    const before = Date.now();
    const { body } = await pollHealth(base, 200, 2000);
    expect(body.status).toBe('ok');
    const conn = body.details.mqtt.connections.default;
    expect(conn).toMatchObject({
      connected: true,
      state: 'connected',
      broker: `mqtt://127.0.0.1:${broker.port}`,
      reconnectAttempts: 0,
    });
    expect(Date.parse(conn.connectedSince ?? '')).toBeLessThanOrEqual(before);
    expect(conn.problem).toBeUndefined();
  });

  it('answers 503 "down" within 3 s of the broker being SIGKILLed, and 200 again after it returns', async () => {
    const first = (await pollHealth(base, 200, 2000)).body.details.mqtt.connections.default;
    const killedAt = Date.now();
    await broker.kill('SIGKILL');
    const down = await pollHealth(base, 503, 3000);
    expect(down.at - killedAt).toBeLessThan(3000);
    expect(down.body.status).toBe('error');
    const lost = down.body.details.mqtt.connections.default;
    expect(lost.connected).toBe(false);
    expect(['offline', 'reconnecting']).toContain(lost.state);
    expect(lost.problem).toContain(`not connected to mqtt://127.0.0.1:${broker.port}`);
    expect(lost.connectedSince).toBeUndefined();

    // While the broker is away, the client keeps trying: attempts are counted, the error kept.
    const trying = await pollHealthUntil(base, (c) => c.reconnectAttempts >= 1 && !!c.lastError);
    expect(trying.lastError).toMatch(/ECONNREFUSED|connect|closed/i);

    await broker.restart();
    const back = (await pollHealth(base, 200, 5000)).body.details.mqtt.connections.default;
    expect(back.connected).toBe(true);
    expect(back.reconnectAttempts).toBe(0);
    expect(Date.parse(back.connectedSince ?? '')).toBeGreaterThan(
      Date.parse(first.connectedSince ?? ''),
    );
  });

  it('reports each named connection: one broker killed turns the check down, naming which', async () => {
    const both = (await pollHealth(`${base}/all`, 200, 2000)).body.details.mqtt.connections;
    expect(Object.keys(both).sort()).toEqual(['backup', 'default']);
    expect(both.backup.broker).toBe(`mqtt://127.0.0.1:${backup.port}`);
    await backup.kill('SIGKILL');
    const down = (await pollHealth(`${base}/all`, 503, 3000)).body.details.mqtt.connections;
    expect(down.default).toMatchObject({ connected: true });
    expect(down.default.problem).toBeUndefined();
    expect(down.backup).toMatchObject({ connected: false });
    expect(down.backup.problem).toContain(`mqtt://127.0.0.1:${backup.port}`);
    await pollHealth(base, 200, 1000); // the default connection alone is still healthy
    await backup.restart();
    await pollHealth(`${base}/all`, 200, 5000);
  });

  it('a connection name that is not configured is reported down, saying how to fix it', async () => {
    const { body } = await pollHealth(`${base}/unknown`, 503, 1000);
    expect(body.details.mqtt.connections.nope.problem).toBe(
      'no MQTT connection named "nope" is configured: add MqttModule.forRoot({ name: \'nope\', ... }) ' +
        '(or forRootAsync) to the app, or remove "nope" from the indicator\'s connections',
    );
  });

  it('with maxMessageAge: up while messages come, down once none came for longer', async () => {
    const publisher = await connectClient(broker.url);
    try {
      await publisher.publishAsync('readings/a', '1', { qos: 1 });
      const fresh = await pollHealthUntil(
        `${base}/fresh`,
        (c) => c.lastMessageAgeMs !== undefined && c.lastMessageAgeMs < 700,
      );
      expect(fresh.problem).toBeUndefined();
      const stale = (await pollHealth(`${base}/fresh`, 503, 3000)).body.details.mqtt.connections
        .default;
      expect(stale.connected).toBe(true);
      expect(stale.lastMessageAgeMs).toBeGreaterThan(700);
      expect(stale.problem).toMatch(
        /^last message received \d+ ms ago, more than maxMessageAge 700 ms$/,
      );
      await publisher.publishAsync('readings/b', '2', { qos: 1 });
      await pollHealth(`${base}/fresh`, 200, 2000);
    } finally {
      await closeClient(publisher);
    }
  });
});

/** Polls `url` (any HTTP status) until the default connection's details satisfy `check`. */
async function pollHealthUntil(
  url: string,
  check: (c: MqttConnectionHealth) => boolean,
  timeoutMs = 5000,
): Promise<MqttConnectionHealth> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = (await (await fetch(url)).json()) as HealthBody;
    const conn = body.details?.mqtt?.connections?.default;
    if (conn && check(conn)) return conn;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms on ${url}; last: ${JSON.stringify(body)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * `nestjs-mqtt/testing`: the in-process broker fixture, the one-call testing app, deliver() that
 * resolves once the app acknowledged (its handlers settled), settled() from `events$`, and the
 * broker-side capture of what the app published.
 */
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { MqttModule, MqttService, Payload, Subscribe, TopicParam } from 'nestjs-mqtt';
import {
  startMqttTestBroker,
  startMqttTestingApp,
  type MqttTestBroker,
  type MqttTestingApp,
} from 'nestjs-mqtt/testing';
import { closeClient, connectClient, rejectionOf } from './support';

@Injectable()
class Thermostat {
  readonly finished: string[] = [];
  constructor(private readonly mqtt: MqttService) {}

  @Subscribe('sensors/+id/temp', { qos: 1 })
  async onTemp(@TopicParam('id') id: string, @Payload() body: { celsius: number }) {
    // Real I/O before the handler settles: a QoS 1 publish, acknowledged by the broker.
    if (body.celsius > 30) await this.mqtt.publish(`alerts/${id}`, body, { qos: 1 });
    this.finished.push(id);
  }

  @Subscribe('commands/fail', { qos: 1 })
  fail(): void {
    throw new Error('refused on purpose');
  }

  @Subscribe('fast/+')
  fast(@Payload() text: string) {
    this.finished.push(`fast:${text}`);
  }
}

describe('nestjs-mqtt/testing: startMqttTestingApp', () => {
  let kit: MqttTestingApp;

  beforeAll(async () => {
    kit = await startMqttTestingApp({
      providers: [Thermostat],
      mqtt: { MQTT_DEAD_LETTER_TOPIC: 'dead/letters' },
    });
  });
  afterAll(() => kit?.close());

  it('starts connected and subscribed to every @Subscribe filter, on a loopback broker', () => {
    expect(kit.mqtt.state).toBe('connected');
    expect(kit.broker.url).toBe(`mqtt://127.0.0.1:${kit.broker.port}`);
    expect(kit.mqtt.topics.sort()).toEqual(['commands/fail', 'fast/+', 'sensors/+/temp']);
  });

  it('deliver() resolves only after the handler (and the publish it awaited) finished', async () => {
    const thermostat = kit.get(Thermostat);
    await kit.deliver('sensors/t1/temp', { celsius: 35 });
    expect(thermostat.finished).toContain('t1');
    expect(kit.published('alerts/#').map((m) => [m.topic, m.json, m.qos])).toEqual([
      ['alerts/t1', { celsius: 35 }, 1],
    ]);
  });

  it('deliver() also resolves for a handler that failed, after its dead letter was published', async () => {
    await kit.deliver('commands/fail', 'x');
    const [letter] = kit.published('dead/letters');
    expect(letter.json).toMatchObject({ error: 'refused on purpose', topic: 'commands/fail' });
  });

  it('deliver() rejects, naming the topic and what to check, when nothing handles it', async () => {
    const error = await rejectionOf(kit.deliver('nobody/listens', 'x', { timeout: 300 }));
    expect(error.message).toContain('did not acknowledge the message on "nobody/listens"');
    expect(error.message).toContain('QoS 1 or 2');
  });

  it('published() holds only what the app itself published, not other clients', async () => {
    const other = await connectClient(kit.broker.url);
    try {
      await other.publishAsync('alerts/other', 'from another client', { qos: 1 });
    } finally {
      await closeClient(other);
    }
    expect(kit.broker.captured.some((m) => m.topic === 'alerts/other')).toBe(true);
    expect(kit.published('alerts/other')).toEqual([]);
  });

  it('waitForPublished() resolves once the app has published enough matching messages', async () => {
    const later = kit.waitForPublished('reports/+', 2);
    await kit.mqtt.publish('reports/a', 'one');
    await kit.mqtt.publish('reports/b', Buffer.from([0, 1]));
    const got = await later;
    expect(got.map((m) => [m.topic, m.payload])).toEqual([
      ['reports/a', Buffer.from('one')],
      ['reports/b', Buffer.from([0, 1])],
    ]);
    const error = await rejectionOf(kit.waitForPublished('reports/+', 3, 200));
    expect(error.message).toBe(
      'The app published 2 message(s) matching "reports/+" within 200 ms, expected at least 3.',
    );
  });

  it('settled() reports each QoS 0 handler call with its outcome, before or after it happened', async () => {
    await kit.publish('fast/one', 'one');
    const first = await kit.settled('Thermostat.fast');
    const pending = kit.settled({ handler: 'Thermostat.fast', topic: 'fast/two' });
    await kit.publish('fast/two', 'two');
    const second = await pending;
    expect([first, second].map((e) => [e.handler, e.topic, e.outcome])).toEqual([
      ['Thermostat.fast', 'fast/one', 'handled'],
      ['Thermostat.fast', 'fast/two', 'handled'],
    ]);
    expect(kit.get(Thermostat).finished).toEqual(expect.arrayContaining(['fast:one', 'fast:two']));
  });

  it('deliver() returns the outcome of each handler call for the message', async () => {
    const { outcomes } = await kit.deliver('commands/fail', 'again');
    expect(outcomes.map((e) => [e.handler, e.outcome])).toEqual([['Thermostat.fail', 'failed']]);
  });
});

@Module({
  imports: [ConfigModule.forRoot({ ignoreEnvFile: true }), MqttModule.forRootAsync()],
  providers: [Thermostat],
})
class AppModule {}

describe('nestjs-mqtt/testing: a shared broker and an app module with its own configuration', () => {
  let broker: MqttTestBroker;
  beforeAll(async () => {
    broker = await startMqttTestBroker();
  });
  afterAll(() => broker?.stop());

  it('runs an app module whose forRootAsync() reads the broker port, and leaves the broker up', async () => {
    const kit = await startMqttTestingApp({
      broker,
      mqttModule: false,
      imports: (b) => [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ MQTT_BROKER_URL: b.host, MQTT_BROKER_PORT: b.port })],
        }),
        AppModule,
      ],
    });
    try {
      await kit.deliver('sensors/k9/temp', { celsius: 40 });
      expect(kit.published('alerts/k9')).toHaveLength(1);
    } finally {
      await kit.close();
    }
    const probe = await connectClient(broker.url);
    await closeClient(probe);
  });

  it('a bootstrap failure rejects with the connection error', async () => {
    const error = await rejectionOf(
      startMqttTestingApp({ mqtt: { MQTT_BROKER_PORT: 1, MQTT_CONNECTION_TIMEOUT: 2 } }),
    );
    expect(error.message).toContain('127.0.0.1:1');
  });
});

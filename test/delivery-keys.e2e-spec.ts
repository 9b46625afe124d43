/**
 * The delivery keys on the wire, against a real mosquitto: reconnect backoff, handler timeout,
 * the QoS 0 queue bound, the offline publish queue bound and the publish timeout.
 */
import { Injectable } from '@nestjs/common';
import { MqttPublishError, Payload, Subscribe } from 'nestjs-mqtt';
import type { MqttClient } from 'mqtt';
import {
  closeClient,
  collectMessages,
  connectClient,
  describeWithMosquitto,
  freePort,
  randomClientId,
  rejectionOf,
  startMosquitto,
  until,
  waitForState,
  type MosquittoBroker,
} from './support';
import { keysAppStarter } from './fixtures/keys-helpers';

jest.setTimeout(30_000);

@Injectable()
class StuckOnce {
  handled: string[] = [];
  @Subscribe('dk/stuck', { qos: 1 })
  async onMessage(@Payload() text: string): Promise<void> {
    if (text === 'stuck') await new Promise(() => undefined);
    this.handled.push(text);
  }
}

@Injectable()
class Blocked {
  handled = 0;
  release!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));
  @Subscribe('dk/burst')
  async onMessage(): Promise<void> {
    await this.gate;
    this.handled++;
  }
}

describeWithMosquitto('delivery keys on the wire (mosquitto)', () => {
  let broker: MosquittoBroker;
  let observer: MqttClient;
  const { start, closeAll } = keysAppStarter();
  const plain = () => ({ MQTT_BROKER_URL: '127.0.0.1', MQTT_BROKER_PORT: String(broker.port) });

  beforeAll(async () => {
    broker = await startMosquitto();
    observer = await connectClient(broker.url);
  });
  afterEach(() => closeAll());
  afterAll(async () => {
    await closeClient(observer);
    await broker.stop();
  });

  it('MQTT_RECONNECT_MAX_PERIOD=2 with MQTT_RECONNECT_PERIOD=1: attempts back off and are capped, one log line for the outage', async () => {
    const port = await freePort(); // nothing listens there
    const app = await start({
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(port),
      MQTT_CONNECT_IN_BACKGROUND: 'true',
      MQTT_RECONNECT_PERIOD: '1',
      MQTT_RECONNECT_MAX_PERIOD: '2',
    });
    const times: number[] = [];
    app.mqtt.events$.subscribe((e) => {
      if (e.type === 'reconnect') times.push(Date.now());
    });
    await until('5 reconnect attempts', () => times.length >= 5, 15_000);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // Each gap lies in [cap/2, cap] of min(2 s, 1 s x 2^n), plus timer slack.
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(450);
      expect(gap).toBeLessThanOrEqual(2300);
    }
    expect(app.mqtt.status().reconnectAttempts).toBeGreaterThanOrEqual(5);
    expect(app.mqtt.status().lastError).toContain('ECONNREFUSED');
    // Errors of the outage: one line, not one per attempt.
    expect(app.logs.mqtt('error').length).toBeLessThanOrEqual(1);
    expect(app.logs.mqtt('warn').filter((l) => l.includes('Reconnecting'))).toEqual([]);
  });

  it('MQTT_HANDLER_TIMEOUT=0.3: a call that never settles counts as failed, is dead-lettered, and the handler takes the next message', async () => {
    const dead = await collectMessages(observer, 'dk/dead');
    try {
      const app = await start(
        {
          ...plain(),
          MQTT_CLIENT_ID: randomClientId('dk-timeout'),
          MQTT_HANDLER_TIMEOUT: '0.3',
          MQTT_DEAD_LETTER_TOPIC: 'dk/dead',
        },
        [StuckOnce],
      );
      const worker = app.app.get(StuckOnce);
      await observer.publishAsync('dk/stuck', 'stuck', { qos: 1 });
      await observer.publishAsync('dk/stuck', 'next', { qos: 1 });
      await until('the next message to be handled', () => worker.handled.includes('next'), 5000);
      await until('the dead letter', () => dead.messages.length === 1, 5000);
      const stats = app.mqtt.stats().handlers.find((h) => h.name === 'StuckOnce.onMessage');
      expect(stats).toMatchObject({ handled: 1, failed: 1, timedOut: 1, running: 0 });
      expect(app.logs.mqtt('error').join('\n')).toMatch(
        /Handler StuckOnce\.onMessage failed for topic "dk\/stuck": did not settle within \d+ ms/,
      );
    } finally {
      dead.stop();
    }
  });

  it('MQTT_QOS0_QUEUE_LIMIT=5: a blocked handler keeps at most 5 QoS 0 messages waiting; the rest are dropped and counted', async () => {
    const app = await start(
      { ...plain(), MQTT_CLIENT_ID: randomClientId('dk-q0'), MQTT_QOS0_QUEUE_LIMIT: '5' },
      [Blocked],
    );
    const worker = app.app.get(Blocked);
    for (let i = 0; i < 20; i++) await observer.publishAsync('dk/burst', String(i), { qos: 0 });
    await until('20 messages taken in', () => {
      const s = app.mqtt.stats();
      return s.dropped + (s.handlers[0]?.queued ?? 0) + (s.handlers[0]?.running ?? 0) >= 20;
    });
    expect(app.mqtt.stats().handlers[0]).toMatchObject({ running: 1, queued: 5, dropped: 14 });
    worker.release();
    await until('the queued ones handled', () => worker.handled === 6);
    expect(app.mqtt.stats().dropped).toBe(14);
    expect(app.logs.mqtt('warn').join('\n')).toContain('MQTT_QOS0_QUEUE_LIMIT');
  });

  it('MQTT_OFFLINE_QUEUE_LIMIT=3: three publishes wait for the broker, the fourth rejects, the three arrive once it is up', async () => {
    const late = await startMosquitto();
    await late.stop();
    const app = await start({
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(late.port),
      MQTT_CONNECT_IN_BACKGROUND: 'true',
      MQTT_OFFLINE_QUEUE_LIMIT: '3',
    });
    const sent = [1, 2, 3].map((n) => app.mqtt.publish('dk/offline', String(n), { qos: 1 }));
    const error = await rejectionOf(app.mqtt.publish('dk/offline', '4', { qos: 1 }));
    expect(error).toBeInstanceOf(MqttPublishError);
    expect(error.message).toContain('MQTT_OFFLINE_QUEUE_LIMIT');
    await late.restart();
    try {
      await waitForState(app.mqtt, 'connected', 10_000);
      // Each resolves on the broker's PUBACK: the three reached it.
      await Promise.all(sent);
      expect(app.mqtt.stats().queuedOffline).toBe(0);
    } finally {
      await late.stop();
    }
  });

  it('MQTT_PUBLISH_TIMEOUT=0.5: a publish the broker never acknowledges rejects after about 0.5 s', async () => {
    const port = await freePort();
    const app = await start({
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(port),
      MQTT_CONNECT_IN_BACKGROUND: 'true',
      MQTT_PUBLISH_TIMEOUT: '0.5',
    });
    const started = Date.now();
    const error = await rejectionOf(app.mqtt.publish('dk/never', 'x', { qos: 1 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(error).toBeInstanceOf(MqttPublishError);
    expect(error.message).toContain('MQTT_PUBLISH_TIMEOUT');
  });
});

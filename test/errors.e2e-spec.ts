/**
 * Handler failures and acknowledgement: a sync throw, an async rejection and an unparsable or
 * invalid payload each give ONE log line (handler, topic, reason, truncated payload), never an
 * unhandled rejection or a dead client, and never stop the other handlers of the message. With a
 * dead-letter topic the original message is republished with the error attached (JSON envelope
 * on MQTT 3.1.1, user properties on MQTT 5). QoS 1 messages are acknowledged only once their
 * handlers settled: a process killed mid-handler gets the message again from its session.
 */
import { randomBytes } from 'node:crypto';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { IsNumber, IsString } from 'class-validator';
import type { MqttClient } from 'mqtt';
import { MqttModule, Payload, Subscribe, Topic } from 'nestjs-mqtt';
import { startMqttTestingApp, type MqttTestingApp } from 'nestjs-mqtt/testing';
import {
  CaptureLogger,
  closeClient,
  collectMessages,
  connectClient,
  delay,
  describeWithMosquitto,
  randomClientId,
  startMosquitto,
  startMqttApp,
  terminate,
  until,
  type MosquittoBroker,
} from './support';
import { startChildApp, watchUnhandledRejections } from './fixtures/reliability-helpers';

class Reading {
  @IsString()
  sensor!: string;

  @IsNumber()
  value!: number;
}

@Injectable()
class Failing {
  readonly seen: string[] = [];
  readonly readings: Reading[] = [];

  @Subscribe('err/sync')
  syncThrow(payload: Buffer): void {
    if (payload.toString().startsWith('ok')) {
      this.seen.push(`syncThrow:${payload.toString()}`);
      return;
    }
    throw new Error('sync boom');
  }

  @Subscribe('err/sync')
  syncNeighbour(payload: Buffer): void {
    this.seen.push(`syncNeighbour:${payload.length}`);
  }

  @Subscribe('err/async', { qos: 1 })
  async asyncReject(@Payload() text: string): Promise<void> {
    await delay(1);
    if (text.startsWith('ok')) {
      this.seen.push(`asyncReject:${text}`);
      return;
    }
    throw new Error('async boom');
  }

  @Subscribe('err/async', { qos: 1 })
  async asyncNeighbour(@Topic() topic: string): Promise<void> {
    await delay(1);
    this.seen.push(`asyncNeighbour:${topic}`);
  }

  @Subscribe('err/dto', { qos: 1 })
  onReading(@Payload() reading: Reading): void {
    this.readings.push(reading);
  }
}

describe('handler failures (aedes, MQTT 3.1.1, dead letters as a JSON envelope)', () => {
  let kit: MqttTestingApp;
  let failing: Failing;
  const logger = new CaptureLogger();
  const unhandled = watchUnhandledRejections();

  beforeAll(async () => {
    kit = await startMqttTestingApp({
      mqtt: { MQTT_DEAD_LETTER_TOPIC: 'dead/letters' },
      providers: [Failing],
      logger,
    });
    failing = kit.get(Failing);
  });

  afterAll(async () => {
    unhandled.stop();
    await kit?.close();
  });

  /** The dead letters the app published (seen at the broker), as JSON envelopes. */
  const envelopes = () =>
    kit.published('dead/letters').map((m) => m.json as Record<string, unknown>);

  afterEach(() => {
    expect(unhandled.reasons).toEqual([]);
  });

  /** The JSON envelope of the first dead letter from `handler`, once it arrived. */
  const letterFrom = (handler: string) =>
    until(`a dead letter from ${handler}`, () => envelopes().find((e) => e.handler === handler));

  /** Every log line (any logger context) that mentions `reason`. */
  const linesAbout = (reason: string) => logger.matching(reason);

  it('a sync throw logs ONE short line (handler, topic, reason, truncated payload); the neighbour and later messages still run', async () => {
    const big = Buffer.alloc(10 * 1024, 'x');
    await kit.publish('err/sync', big, { qos: 0 });
    await kit.publish('err/sync', 'ok after', { qos: 0 });
    await until('the later message', () => failing.seen.length >= 3);

    expect([...failing.seen].sort()).toEqual([
      `syncNeighbour:${big.length}`,
      'syncNeighbour:8',
      'syncThrow:ok after',
    ]);
    const lines = linesAbout('sync boom');
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line.level).toBe('error');
    expect(line.context).toBe('MqttModule');
    expect(line.text).toContain('Failing.syncThrow');
    expect(line.text).toContain('"err/sync"');
    expect(line.text).toContain('sync boom');
    expect(line.text).toContain('10240 bytes');
    expect(line.text).not.toContain('\n');
    expect(line.text.length).toBeLessThan(500);
    expect(kit.mqtt.connected).toBe(true);
    // The dead letter carries the whole payload, not the truncated preview.
    const envelope = await letterFrom('Failing.syncThrow');
    expect(envelope.error).toBe('sync boom');
    expect(envelope.topic).toBe('err/sync');
    expect(Buffer.from(envelope.payload as string, 'base64').equals(big)).toBe(true);
  });

  it('an async rejection logs ONE line and goes to the dead-letter topic as a JSON envelope with the exact bytes', async () => {
    // Control bytes and multi-byte characters, still valid UTF-8 (the handler reads a string;
    // invalid UTF-8 is refused before it, see test/faults/bad-input).
    const payload = Buffer.concat([
      Buffer.from('fail:'),
      Buffer.from([0, 1, 0x7f]),
      Buffer.from('é€'),
    ]);
    // deliver() resolves once the app acknowledged: every handler of the message settled.
    await kit.deliver('err/async', payload, { qos: 1 });
    await kit.deliver('err/async', 'ok later', { qos: 1 });
    const asyncSeen = () => failing.seen.filter((s) => s.startsWith('async')).sort();

    expect(asyncSeen()).toEqual([
      'asyncNeighbour:err/async',
      'asyncNeighbour:err/async',
      'asyncReject:ok later',
    ]);
    const lines = linesAbout('async boom');
    expect(lines).toHaveLength(1);
    expect(lines[0].context).toBe('MqttModule');
    expect(lines[0].text).toContain('Failing.asyncReject');
    expect(lines[0].text).toContain('"err/async"');

    const envelope = await letterFrom('Failing.asyncReject');
    expect(kit.published('dead/letters').every((m) => m.topic === 'dead/letters')).toBe(true);
    expect(envelope).toEqual({
      error: 'async boom',
      topic: 'err/async',
      handler: 'Failing.asyncReject',
      payload: payload.toString('base64'),
      payloadEncoding: 'base64',
    });
    expect(Buffer.from(envelope.payload as string, 'base64').equals(payload)).toBe(true);
  });

  it('an unparsable JSON payload for a class DTO logs ONE line naming the handler, topic and reason', async () => {
    await kit.deliver('err/dto', '{"sensor": "t1", value', { qos: 1 });
    await kit.deliver('err/dto', JSON.stringify({ sensor: 't1', value: 20 }), { qos: 1 });

    const lines = linesAbout('not valid JSON');
    expect(lines).toHaveLength(1);
    expect(lines[0].context).toBe('MqttModule');
    expect(lines[0].text).toContain('Failing.onReading');
    expect(lines[0].text).toContain('"err/dto"');
    expect(lines[0].text).toContain('Reading');
    expect(failing.readings[0]).toBeInstanceOf(Reading);
    expect(failing.readings[0]).toEqual({ sensor: 't1', value: 20 });
  });

  it('a payload that fails class-validator logs ONE line with the failing property and is dead-lettered', async () => {
    const bad = JSON.stringify({ sensor: 't2', value: 'hot' });
    await kit.deliver('err/dto', bad, { qos: 1 });
    await kit.deliver('err/dto', JSON.stringify({ sensor: 't3', value: 3 }), { qos: 1 });
    expect(failing.readings.some((r) => r.sensor === 't3')).toBe(true);

    const lines = linesAbout('value must be a number');
    expect(lines).toHaveLength(1);
    expect(lines[0].text).toContain('Failing.onReading');
    expect(lines[0].text).toContain('"err/dto"');
    expect(lines[0].text).toContain('invalid payload');
    expect(failing.readings.map((r) => r.sensor)).not.toContain('t2');

    // The dead letter was published before the message was acknowledged: no waiting.
    const envelope = envelopes().find((e) => String(e.error).includes('value must be a number'));
    if (!envelope) throw new Error(`no dead letter; got ${JSON.stringify(envelopes())}`);
    expect(envelope.handler).toBe('Failing.onReading');
    expect(envelope.topic).toBe('err/dto');
    expect(Buffer.from(envelope.payload as string, 'base64').toString()).toBe(bad);
  });
});

@Injectable()
class V5Failing {
  handled = 0;

  @Subscribe('err5/+', { qos: 1 })
  boom(payload: Buffer): void {
    if (payload.toString() === 'fine') {
      this.handled++;
      return;
    }
    throw new Error('v5 boom');
  }
}

describeWithMosquitto('dead letters on MQTT 5 (mosquitto, topic from the environment)', () => {
  let broker: MosquittoBroker;
  let app: INestApplicationContext;
  let client: MqttClient;
  const saved = { ...process.env };
  const unhandled = watchUnhandledRejections();

  beforeAll(async () => {
    broker = await startMosquitto();
    Object.assign(process.env, {
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(broker.port),
      MQTT_PROTOCOL_VERSION: 'MQTTv5',
      MQTT_DEAD_LETTER_TOPIC: 'dlq/v5',
    });
    ({ app } = await startMqttApp({
      imports: [MqttModule.forRootAsync()],
      providers: [V5Failing],
    }));
    client = await connectClient(broker.url, { protocolVersion: 5 });
  });

  afterAll(async () => {
    unhandled.stop();
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    if (client) await closeClient(client);
    await app?.close();
    await broker?.stop();
  });

  it('republishes the original bytes with x-error, x-original-topic and x-handler user properties', async () => {
    const letters = await collectMessages(client, 'dlq/v5', { qos: 1 });
    const payload = Buffer.concat([randomBytes(64), Buffer.from([0, 0xff, 0xc3])]);
    await client.publishAsync('err5/device-7', payload, { qos: 1 });
    await client.publishAsync('err5/device-7', 'fine', { qos: 1 });
    const [letter] = await letters.waitFor(1);
    letters.stop();

    expect(letter.payload.equals(payload)).toBe(true);
    expect(letter.packet.properties?.userProperties).toEqual({
      'x-error': 'v5 boom',
      'x-original-topic': 'err5/device-7',
      'x-handler': 'V5Failing.boom',
    });
    await until('the later message', () => app.get(V5Failing).handled === 1);
    expect(unhandled.reasons).toEqual([]);
  });
});

describeWithMosquitto(
  'QoS 1 acknowledgement after the handler settles (mosquitto, persistent session)',
  () => {
    let broker: MosquittoBroker;
    let client: MqttClient;

    beforeAll(async () => {
      broker = await startMosquitto();
      client = await connectClient(broker.url);
    });

    afterAll(async () => {
      if (client) await closeClient(client);
      await broker?.stop();
    });

    it('a process SIGKILLed mid-handler gets the message again on restart; a settled one is not redelivered', async () => {
      const env = {
        MQTT_BROKER_URL: '127.0.0.1',
        MQTT_BROKER_PORT: String(broker.port),
        MQTT_CLEAN_SESSION: 'false',
        MQTT_CLIENT_ID: randomClientId('h7-redeliver'),
      };
      const first = startChildApp('reliability-redelivery.ts', { ...env, REDELIVERY_MODE: 'hang' });
      let second: ReturnType<typeof startChildApp> | undefined;
      try {
        await first.waitFor((e) => e.event === 'ready', 'ready', 15_000);
        await client.publishAsync('jobs/1', 'done-41', { qos: 1 });
        await first.waitFor((e) => e.event === 'handled' && e.payload === 'done-41', 'done-41');
        await client.publishAsync('jobs/2', 'hang-42', { qos: 1 });
        await first.waitFor((e) => e.event === 'started' && e.payload === 'hang-42', 'started');
        await terminate(first.child, 'SIGKILL');
        expect(first.child.signalCode).toBe('SIGKILL');

        second = startChildApp('reliability-redelivery.ts', {
          ...env,
          REDELIVERY_MODE: 'complete',
        });
        const connected = await second.waitFor((e) => e.event === 'connected', 'connect', 15_000);
        expect(connected.sessionPresent).toBe(true);
        const redelivered = await second.waitFor(
          (e) => e.event === 'handled' && e.payload === 'hang-42',
          'the redelivered hang-42',
        );
        expect(redelivered.qos).toBe(1);
        // A fresh message afterwards marks the end of whatever the session still held.
        await client.publishAsync('jobs/3', 'fresh-43', { qos: 1 });
        await second.waitFor((e) => e.event === 'handled' && e.payload === 'fresh-43', 'fresh-43');
        const handled = second.events.filter((e) => e.event === 'handled').map((e) => e.payload);
        expect(handled).toEqual(['hang-42', 'fresh-43']);
        console.info(`redelivery: hang-42 came back with dup=${String(redelivered.dup)}`);
      } finally {
        await terminate(first.child, 'SIGKILL');
        if (second) await second.stop();
      }
    }, 45_000);
  },
);

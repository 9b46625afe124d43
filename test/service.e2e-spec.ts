/**
 * MqttService against a real broker (aedes): payload encoding byte for byte, retain, QoS 1/2
 * acknowledgements, invalid topics and payloads, runtime subscribe / unsubscribe, the MQTT.js
 * escape hatch, and a graceful shutdown that waits for handlers and sends no will.
 */
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import type { MqttClient, Packet } from 'mqtt';
import {
  MqttPublishError,
  MqttService,
  Subscribe,
  type MqttModuleOptions,
  type MqttPayload,
} from 'nestjs-mqtt';
import {
  aedesClient,
  closeClient,
  collectMessages,
  connectClient,
  delay,
  nextMessage,
  rejectionOf,
  startAedes,
  startMqttApp,
  uid,
  until,
  type AedesBroker,
} from './support';

describe('MqttService', () => {
  let aedes: AedesBroker;
  let app: TestingModule;
  let mqtt: MqttService;
  let raw: MqttClient;
  const clientId = uid('svc');

  async function boot(
    options: MqttModuleOptions,
    providers: Array<new (...a: never[]) => unknown> = [],
  ) {
    const {
      app: moduleRef,
      mqtt,
      logger,
    } = await startMqttApp({
      broker: aedes,
      options,
      providers,
    });
    return { moduleRef, mqtt, logger };
  }

  beforeAll(async () => {
    aedes = await startAedes();
    ({ moduleRef: app, mqtt } = await boot({ MQTT_CLIENT_ID: clientId }));
    raw = await connectClient(aedes.url);
  });

  afterAll(async () => {
    await closeClient(raw);
    await app.close();
    await aedes.stop();
  });

  it('publishes every payload type byte for byte', async () => {
    const cases: Array<[string, MqttPayload, Buffer]> = [
      [
        'buffer',
        Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]),
        Buffer.from([0, 1, 0x7f, 0x80, 0xfe, 0xff]),
      ],
      ['string', 'héllo wörld ✓ 日本語 🚀', Buffer.from('héllo wörld ✓ 日本語 🚀', 'utf8')],
      ['uint8array-view', new Uint8Array([9, 8, 7, 6]).subarray(1, 3), Buffer.from([8, 7])],
      ['integer', 42, Buffer.from('42')],
      ['negative-decimal', -3.25, Buffer.from('-3.25')],
      ['zero', 0, Buffer.from('0')],
      ['true', true, Buffer.from('true')],
      ['false', false, Buffer.from('false')],
      [
        'object',
        { a: 1, b: 'ü', nested: { c: [1, 2] } },
        Buffer.from('{"a":1,"b":"ü","nested":{"c":[1,2]}}', 'utf8'),
      ],
      ['array', [1, 'two', { three: 3 }], Buffer.from('[1,"two",{"three":3}]')],
      ['null', null, Buffer.alloc(0)],
      ['undefined', undefined, Buffer.alloc(0)],
    ];
    const collector = await collectMessages(raw, 'svc/payload/#', { qos: 1 });
    try {
      for (const [name, payload] of cases)
        await mqtt.publish(`svc/payload/${name}`, payload, { qos: 1 });
      const got = await collector.waitFor(cases.length);
      expect(got.map((m) => m.topic)).toEqual(cases.map(([name]) => `svc/payload/${name}`));
      for (const [i, [name, , bytes]] of cases.entries()) {
        expect({ name, bytes: got[i].payload.toString('hex') }).toEqual({
          name,
          bytes: bytes.toString('hex'),
        });
      }
      // A default publish (no payload, no options) is QoS 0 and empty.
      await mqtt.publish('svc/payload/default');
      const last = (await collector.waitFor(cases.length + 1))[cases.length];
      expect(last.topic).toBe('svc/payload/default');
      expect(last.payload.length).toBe(0);
      expect(last.packet.qos).toBe(0);
    } finally {
      collector.stop();
    }
  });

  it('a QoS 0 burst that fills the socket: every publish resolves, every message arrives once, in order', async () => {
    const n = 2000;
    const collector = await collectMessages(raw, 'svc/burst', { qos: 1 });
    try {
      const filler = Buffer.alloc(2048, 0x2e);
      // ~4 MB in one turn of the event loop: the socket's buffer fills, and the publishes
      // written after that resolve only when it drains (one listener for all of them).
      const sent = Array.from({ length: n }, (_, i) =>
        mqtt.publish('svc/burst', Buffer.concat([Buffer.from(`${i};`), filler])),
      );
      expect(mqtt.client.stream.writableNeedDrain).toBe(true);
      expect(mqtt.client.stream.listenerCount('drain')).toBeLessThanOrEqual(1);
      await Promise.all(sent);
      const got = await collector.waitFor(n, 20_000);
      const numbers = got.map((m) => Number(m.payload.toString('utf8', 0, 6).split(';')[0]));
      expect(numbers).toEqual(Array.from({ length: n }, (_, i) => i));
    } finally {
      collector.stop();
    }
  });

  it('retains a message for a late subscriber', async () => {
    const topic = uid('svc/retained');
    await mqtt.publish(topic, 'kept for later', { qos: 1, retain: true });
    const late = await connectClient(aedes.url);
    try {
      const message = await nextMessage(late, topic);
      expect(message.payload.toString()).toBe('kept for later');
      expect(message.packet.retain).toBe(true);
    } finally {
      await closeClient(late);
      await mqtt.publish(topic, '', { qos: 1, retain: true }); // clears it
    }
  });

  it.each([
    [1, ['puback']],
    [2, ['pubrec', 'pubcomp']],
  ] as const)('QoS %i resolves only after the broker acknowledged it', async (qos, acks) => {
    const topic = `svc/qos/${qos}`;
    const order: string[] = [];
    const onPacket = (packet: Packet) => {
      if (['puback', 'pubrec', 'pubcomp'].includes(packet.cmd)) order.push(packet.cmd);
    };
    const collector = await collectMessages(raw, topic, { qos: 2 });
    mqtt.client.on('packetreceive', onPacket);
    try {
      await mqtt.publish(topic, `qos ${qos}`, { qos });
      order.push('resolved');
      expect(order).toEqual([...acks, 'resolved']);
      const [message] = await collector.waitFor(1);
      expect(message.packet.qos).toBe(qos);
      expect(message.payload.toString()).toBe(`qos ${qos}`);
    } finally {
      mqtt.client.off('packetreceive', onPacket);
      collector.stop();
    }
  });

  it('rejects invalid topics and payloads with MqttPublishError, sending nothing', async () => {
    const sent: string[] = [];
    const onPublish = (packet: { topic: string }, client: { id: string } | null) => {
      if (client?.id === clientId) sent.push(packet.topic);
    };
    aedes.broker.on('publish', onPublish);
    try {
      const cases: Array<[string, MqttPayload, RegExp]> = [
        ['a/+', 'x', /^Cannot publish to topic "a\/\+": it contains the wildcard "\+"/],
        ['a/#', 'x', /^Cannot publish to topic "a\/#": it contains the wildcard "#"/],
        ['', 'x', /^Cannot publish to topic "": it is empty\.$/],
        ['a\u0000b', 'x', /it contains a NUL character\.$/],
        ['t'.repeat(65536), 'x', /it is 65536 bytes long; the limit is 65535 bytes \(UTF-8\)\.$/],
        ['svc/map', new Map([['k', 'v']]), /^Cannot publish a payload of type Map/],
        ['svc/infinity', Infinity, /^Cannot publish a payload of type number Infinity/],
      ];
      for (const [topic, payload, message] of cases) {
        // After a valid topic, each twice in a row: the module remembers the last topic it found
        // valid, never an invalid one, and never lends one topic's check to another.
        await mqtt.publish('svc/valid', 'x');
        for (let i = 0; i < 2; i++) {
          const error = await rejectionOf(mqtt.publish(topic, payload));
          expect(error).toBeInstanceOf(MqttPublishError);
          expect(error.message).toMatch(message);
        }
      }
      // The client is still fine, and the broker saw only the valid publishes.
      const collector = await collectMessages(raw, 'svc/after-invalid');
      await mqtt.publish('svc/after-invalid', 'still works', { qos: 1 });
      await collector.waitFor(1);
      collector.stop();
      expect(sent).toEqual([...cases.map(() => 'svc/valid'), 'svc/after-invalid']);
    } finally {
      aedes.broker.off('publish', onPublish);
    }
  });

  it('exposes connected, clientId and the MQTT.js client', async () => {
    expect(mqtt.connected).toBe(true);
    expect(mqtt.clientId).toBe(clientId);
    expect(mqtt.client.options.clientId).toBe(clientId);
    expect(aedesClient(aedes, clientId)).toBeDefined();
    const collector = await collectMessages(raw, 'svc/escape-hatch');
    await mqtt.client.publishAsync('svc/escape-hatch', 'straight through MQTT.js', { qos: 1 });
    const [message] = await collector.waitFor(1);
    collector.stop();
    expect(message.payload.toString()).toBe('straight through MQTT.js');
  });

  it('subscribes at runtime; after unsubscribe / unsubscribeAll no more messages arrive', async () => {
    const got = { a: [] as string[], b: [] as string[], c: [] as string[], d: [] as string[] };
    const record = (list: string[]) => (payload: Buffer, topic: string) => {
      list.push(`${topic}=${payload.toString()}`);
    };
    const send = (topic: string, text: string) => raw.publishAsync(topic, text, { qos: 1 });
    /** The filters aedes holds for the service's client. */
    const atBroker = () => Object.keys(aedesClient(aedes, clientId)!.subscriptions).sort();
    /** Topics of the PUBLISH packets the broker sent to the service. */
    const delivered: string[] = [];
    const onPacket = (packet: Packet) => {
      if (packet.cmd === 'publish') delivered.push(packet.topic);
    };
    mqtt.client.on('packetreceive', onPacket);
    try {
      const subA = await mqtt.subscribe('svc/rt/a', record(got.a), { qos: 1 });
      await mqtt.subscribe('svc/rt/+', record(got.b), { qos: 1 });
      expect(subA.filters).toEqual(['svc/rt/a']);
      expect([...mqtt.topics].sort()).toEqual(['svc/rt/+', 'svc/rt/a']);
      expect(atBroker()).toEqual(['svc/rt/+', 'svc/rt/a']);

      await send('svc/rt/a', '1');
      await send('svc/rt/b', '1');
      await until('the first messages', () => got.a.length === 1 && got.b.length === 2, 3000);
      expect(got.a).toEqual(['svc/rt/a=1']);
      expect(got.b).toEqual(['svc/rt/a=1', 'svc/rt/b=1']);

      // unsubscribe(filter): gone at the broker; svc/rt/+ still routes svc/rt/a to its handler only.
      await mqtt.unsubscribe('svc/rt/a');
      expect(mqtt.topics).toEqual(['svc/rt/+']);
      expect(atBroker()).toEqual(['svc/rt/+']);
      await send('svc/rt/a', '2');
      await send('svc/rt/b', '2'); // sent after, on the same connection: it arrives after
      await until('the follow-up on svc/rt/b', () => got.b.includes('svc/rt/b=2'), 3000);
      expect(got.a).toEqual(['svc/rt/a=1']);
      expect(got.b).toEqual(['svc/rt/a=1', 'svc/rt/b=1', 'svc/rt/a=2', 'svc/rt/b=2']);

      // The last filter of a topic removed: the broker stops sending it at all.
      await mqtt.subscribe('svc/other', record(got.c), { qos: 1 });
      await mqtt.unsubscribe('svc/rt/+');
      expect(atBroker()).toEqual(['svc/other']);
      delivered.length = 0;
      await send('svc/rt/b', '3');
      await send('svc/other', 'follow-up');
      await until('the follow-up on svc/other', () => got.c.length === 1, 3000);
      expect(got.c).toEqual(['svc/other=follow-up']);
      expect(delivered).toEqual(['svc/other']);
      expect(got.b).toHaveLength(4);

      // unsubscribeAll(): nothing left, at the service or at the broker.
      await mqtt.subscribe(['svc/rt/x', 'svc/rt/y'], record(got.a));
      await mqtt.unsubscribeAll();
      expect(mqtt.topics).toEqual([]);
      expect(atBroker()).toEqual([]);
      const last = await mqtt.subscribe('svc/final', record(got.d), { qos: 1 });
      delivered.length = 0;
      await send('svc/rt/x', '4');
      await send('svc/other', '4');
      await send('svc/final', 'follow-up');
      await until('the follow-up on svc/final', () => got.d.length === 1, 3000);
      expect(delivered).toEqual(['svc/final']);
      expect(got.a).toEqual(['svc/rt/a=1']);
      expect(got.c).toEqual(['svc/other=follow-up']);

      // The handle returned by subscribe() unsubscribes too.
      await last.unsubscribe();
      expect(mqtt.topics).toEqual([]);
      expect(atBroker()).toEqual([]);
    } finally {
      mqtt.client.off('packetreceive', onPacket);
    }
  });

  describe('shutdown', () => {
    const order: string[] = [];
    let started: () => void = () => undefined;

    @Injectable()
    class SlowHandler {
      @Subscribe('svc/slow', { qos: 1 })
      async handle(payload: Buffer) {
        order.push(`start ${payload.toString()}`);
        started();
        await delay(300);
        order.push(`done ${payload.toString()}`);
      }
    }

    it('app.close() waits for an in-flight handler, then disconnects cleanly without the will', async () => {
      const id = uid('svc-close');
      const willTopic = `svc/will/${id}`;
      const wills = await collectMessages(raw, 'svc/will/#', { qos: 1 });
      const disconnected = new Promise<void>((resolve) => {
        const onDisconnect = (client: { id: string }) => {
          if (client.id !== id) return;
          order.push('disconnected');
          aedes.broker.off('clientDisconnect', onDisconnect);
          resolve();
        };
        aedes.broker.on('clientDisconnect', onDisconnect);
      });
      const {
        moduleRef,
        mqtt: closing,
        logger,
      } = await boot(
        { MQTT_CLIENT_ID: id, MQTT_LAST_WILL_TOPIC: willTopic, MQTT_LAST_WILL_MESSAGE: 'gone' },
        [SlowHandler],
      );
      try {
        const running = new Promise<void>((resolve) => (started = resolve));
        await raw.publishAsync('svc/slow', 'job', { qos: 1 });
        await running;

        await moduleRef.close();
        await disconnected;

        expect(order).toEqual(['start job', 'done job', 'disconnected']);
        expect(logger.mqtt('log')).toContain(
          'Waiting up to 10 s for 1 MQTT handler(s) still running',
        );
        expect(closing.state).toBe('closed');
        const error = await rejectionOf(closing.publish('svc/after-close', 'late'));
        expect(error).toBeInstanceOf(MqttPublishError);
        expect(error.message).toBe(
          'Cannot publish to "svc/after-close": the MQTT client is closed (the application is shutting down), so the message was not sent.',
        );

        // Watch for ~500 ms, then a marker on the same filter proves the subscriber still listens.
        await delay(500);
        await raw.publishAsync('svc/will/marker', 'marker', { qos: 1 });
        await wills.waitFor(1);
        expect(wills.messages.map((m) => m.topic)).toEqual(['svc/will/marker']);
      } finally {
        wills.stop();
      }
    });

    it('the same will IS published when the connection drops (control)', async () => {
      const id = uid('svc-crash');
      const willTopic = `svc/will/${id}`;
      const wills = await collectMessages(raw, willTopic, { qos: 1 });
      const { moduleRef, mqtt: crashing } = await boot({
        MQTT_CLIENT_ID: id,
        MQTT_LAST_WILL_TOPIC: willTopic,
        MQTT_LAST_WILL_MESSAGE: 'gone',
        MQTT_RECONNECT_PERIOD: 0,
      });
      try {
        crashing.client.stream.destroy();
        const [will] = await wills.waitFor(1);
        expect(will.payload.toString()).toBe('gone');
      } finally {
        wills.stop();
        await moduleRef.close();
      }
    });
  });
});

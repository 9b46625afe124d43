/**
 * The contract between the module and the private parts of MQTT.js it uses. When an MQTT.js
 * upgrade breaks one of these tests, mqtt-client.internals.ts must change with it.
 */
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Duplex } from 'node:stream';
import {
  dupBit,
  flagBits,
  startFakeBroker,
  type FakeBroker,
} from '../../../../test/support/fake-broker';
import { delay, until } from '../../../../test/support/wait';
import {
  markRedeliveries,
  missingMqttClientInternals,
  rearmReconnect,
  releaseIncomingQos2,
  sendDeferredAck,
  stopReconnecting,
  watchStreams,
} from './mqtt-client.internals';

describe('MQTT.js internals used by nestjs-mqtt', () => {
  let broker: FakeBroker;
  const clients: MqttClient[] = [];

  beforeEach(async () => {
    broker = await startFakeBroker({ connack: { sessionPresent: true } });
  });
  afterEach(async () => {
    // A client that never opened a socket has nothing to end (MQTT.js would throw).
    await Promise.all(
      clients.splice(0).map((c) => (c.stream ? c.endAsync(true) : Promise.resolve())),
    );
    await broker.stop();
  });

  function client(
    patch: boolean,
    options: { manualConnect?: boolean; reconnectPeriod?: number } = {},
  ): MqttClient {
    const c = connect(`mqtt://127.0.0.1:${broker.port}`, {
      clientId: 'internals',
      clean: false,
      reconnectPeriod: 50,
      ...options,
    });
    c.on('error', () => undefined);
    if (patch) markRedeliveries(c);
    clients.push(c);
    return c;
  }
  const connected = (c: MqttClient) => until('connected', () => c.connected);

  it('has every private member the module uses', () => {
    const c = client(false, { manualConnect: true });
    expect(missingMqttClientInternals(c)).toEqual([]);
    const doctored = Object.create(c) as Record<string, unknown>;
    doctored._writePacket = undefined;
    doctored.incomingStore = {};
    expect(missingMqttClientInternals(doctored as unknown as MqttClient)).toEqual([
      '_writePacket',
      'incomingStore.del',
    ]);
  });

  it('MQTT.js alone still resends with DUP=0 (drop markRedeliveries once this fails)', async () => {
    const c = client(false);
    await connected(c);
    broker.hold('publish');
    c.publish('t', 'x', { qos: 1 });
    await broker.waitFor('the PUBLISH', (p) => p.packet.cmd === 'publish');
    await broker.drop();
    await broker.waitFor('the resend', (p) => p.packet.cmd === 'publish' && p.connection === 2);
    expect(broker.sent('publish').map((p) => dupBit(p.raw))).toEqual([0, 0]);
  });

  it('MQTT-3.3.1-1: with markRedeliveries, the resend after a reconnect goes through _writePacket with DUP=1', async () => {
    const c = client(true);
    await connected(c);
    broker.hold('publish');
    c.publish('t', 'x', { qos: 1 });
    await broker.waitFor('the PUBLISH', (p) => p.packet.cmd === 'publish');
    await broker.drop();
    broker.release('publish');
    await broker.waitFor('the resend', (p) => p.packet.cmd === 'publish' && p.connection === 2);
    const sent = broker.sent('publish');
    expect(sent.map((p) => dupBit(p.raw))).toEqual([0, 1]);
    expect(sent[0].packet.messageId).toBe(sent[1].packet.messageId);
  });

  it('a message published while offline goes out first with DUP=0', async () => {
    const c = client(true);
    await connected(c);
    await broker.drop();
    await until('offline', () => !c.connected);
    const acked = c.publishAsync('t', 'offline', { qos: 1 });
    await acked;
    const sent = broker.sent('publish');
    expect(sent).toHaveLength(1);
    expect(dupBit(sent[0].raw)).toBe(0);
  });

  it('MQTT-4.4.0-1 / MQTT-3.6.1-1: a PUBREL is resent after a reconnect, flags 0b0010', async () => {
    const c = client(true);
    await connected(c);
    broker.hold('pubrel');
    const done = c.publishAsync('t', 'x', { qos: 2 });
    await broker.waitFor('the PUBREL', (p) => p.packet.cmd === 'pubrel');
    await broker.drop();
    broker.release('pubrel');
    await done;
    const pubrels = broker.sent('pubrel');
    expect(pubrels.map((p) => p.connection)).toEqual([1, 2]);
    expect(pubrels.map((p) => flagBits(p.raw))).toEqual([0b0010, 0b0010]);
    expect(broker.sent('publish', 2)).toHaveLength(0);
  });

  it('sendDeferredAck writes the PUBACK that handleMessage withheld', async () => {
    const c = client(true);
    const deferred: IPublishPacket[] = [];
    c.handleMessage = (packet, callback) => {
      deferred.push(packet);
      callback(new Error('deferred'));
    };
    await connected(c);
    broker.publish({ topic: 't', payload: Buffer.from('a'), qos: 1, messageId: 7 });
    await until('the message', () => deferred.length === 1);
    expect(broker.sent('puback')).toHaveLength(0);
    sendDeferredAck(c, deferred[0]);
    const ack = await broker.waitFor('the PUBACK', (p) => p.packet.cmd === 'puback');
    expect(ack.packet.messageId).toBe(7);
  });

  it('releaseIncomingQos2 removes the message from the incoming store', async () => {
    const c = client(false, { manualConnect: true });
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic: 't',
      payload: Buffer.alloc(0),
      qos: 2,
      dup: false,
      retain: false,
      messageId: 9,
    };
    await new Promise((resolve) => c.incomingStore.put(packet, resolve));
    releaseIncomingQos2(c, packet);
    const found = await new Promise((resolve) =>
      c.incomingStore.get(packet, (error) => resolve(!error)),
    );
    expect(found).toBe(false);
  });

  it('watchStreams sees every socket MQTT.js opens', async () => {
    const c = client(false, { manualConnect: true });
    const streams: Duplex[] = [];
    watchStreams(c, (s) => streams.push(s));
    c.connect();
    await connected(c);
    await broker.drop();
    await until('the second socket', () => streams.length === 2 && c.connected);
  });

  it('rearmReconnect changes the delay of the reconnect already armed', async () => {
    const c = client(false, { reconnectPeriod: 60_000 });
    await connected(c);
    await broker.drop();
    await until('offline', () => !c.connected);
    rearmReconnect(c, 20);
    await broker.connection(2, 2000);
  });

  it('stopReconnecting leaves MQTT.js no reconnect armed', async () => {
    const c = client(false);
    await connected(c);
    stopReconnecting(c);
    await broker.drop();
    await delay(300); // six reconnect periods of 50 ms: none may happen
    expect(broker.connections).toHaveLength(1);
  });
});

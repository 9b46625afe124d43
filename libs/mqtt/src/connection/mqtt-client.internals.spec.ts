import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import * as mqttPacket from 'mqtt-packet';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dupBit, flagBits } from '../../../../test/support/fake-broker';
import {
  MQTT_JS_TESTED_RANGE,
  markRedeliveries,
  missingMqttClientInternals,
  rearmReconnect,
  releaseIncomingQos2,
  sendDeferredAck,
  stopReconnecting,
  watchStreams,
} from './mqtt-client.internals';
import { fakeBrokerPerTest } from './mqtt-client.spec-helpers';

/**
 * The contract with MQTT.js's private members (mqtt-client.internals.ts). If this fails after an
 * MQTT.js upgrade, acknowledgements, backoff or error reports would silently break: fix
 * mqtt-client.internals.ts first (the module refuses to start with a client it does not know).
 */

/** A raw MQTT 3.1.1 server: answers CONNECT, records what the client sends, sends what it is told. */
class RawBroker {
  readonly received: mqttPacket.Packet[] = [];
  readonly sockets: Socket[] = [];
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((socket) => {
      this.sockets.push(socket);
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (packet) => {
        this.received.push(packet);
        if (packet.cmd === 'connect')
          this.send(socket, { cmd: 'connack', returnCode: 0, sessionPresent: false });
      });
      socket.on('data', (chunk) => parser.parse(chunk));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  send(socket: Socket, packet: Record<string, unknown>): void {
    socket.write(
      mqttPacket.generate(packet as unknown as mqttPacket.Packet, { protocolVersion: 4 }),
    );
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - started > ms) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

describe(`MQTT.js internals (tested range ${MQTT_JS_TESTED_RANGE})`, () => {
  let broker: RawBroker;
  let client: MqttClient | undefined;

  beforeEach(async () => {
    broker = new RawBroker();
    await broker.start();
  });
  afterEach(async () => {
    if (client) {
      stopReconnecting(client);
      if (client.stream) await client.endAsync(true);
    }
    client = undefined;
    await broker.stop();
  });

  function open(): MqttClient {
    client = connect(`mqtt://127.0.0.1:${broker.port}`, {
      manualConnect: true,
      reconnectPeriod: 1000,
      resubscribe: false,
    });
    return client;
  }

  it('the installed MQTT.js has every private member the module uses', () => {
    expect(missingMqttClientInternals(open())).toEqual([]);
  });

  it('names what is missing from a client that lacks them', () => {
    const fake = { incomingStore: {}, streamBuilder: () => undefined } as unknown as MqttClient;
    expect(missingMqttClientInternals(fake)).toEqual([
      '_writePacket',
      '_sendPacket',
      '_releaseIncomingQoS2Publish',
      '_clearReconnect',
      '_setupReconnect',
      'noop',
      'log',
      'incomingStore.del',
    ]);
  });

  it('an error from handleMessage withholds the PUBACK; sendDeferredAck sends it later, with its id', async () => {
    const c = open();
    const held: IPublishPacket[] = [];
    c.handleMessage = (packet, done) => {
      held.push(packet);
      done(new Error('deferred'));
    };
    watchStreams(c, () => undefined);
    c.connect();
    await until(() => c.connected, 'CONNACK');
    broker.send(broker.sockets[0], {
      cmd: 'publish',
      topic: 't',
      payload: 'x',
      qos: 1,
      messageId: 42,
    });
    await until(() => held.length === 1, 'the PUBLISH');
    await new Promise((r) => setTimeout(r, 50));
    expect(broker.received.filter((p) => p.cmd === 'puback')).toEqual([]);
    sendDeferredAck(c, held[0]);
    await until(() => broker.received.some((p) => p.cmd === 'puback'), 'the PUBACK');
    expect(broker.received.find((p) => p.cmd === 'puback')).toMatchObject({ messageId: 42 });
  });

  it('QoS 2: handleMessage runs at PUBREL; the deferred PUBCOMP goes out once released', async () => {
    const c = open();
    const held: IPublishPacket[] = [];
    c.handleMessage = (packet, done) => {
      held.push(packet);
      done(new Error('deferred'));
    };
    c.connect();
    await until(() => c.connected, 'CONNACK');
    const socket = broker.sockets[0];
    broker.send(socket, { cmd: 'publish', topic: 't', payload: 'x', qos: 2, messageId: 7 });
    await until(() => broker.received.some((p) => p.cmd === 'pubrec'), 'the PUBREC');
    broker.send(socket, { cmd: 'pubrel', messageId: 7 });
    await until(() => held.length === 1, 'the handover at PUBREL');
    expect(broker.received.some((p) => p.cmd === 'pubcomp')).toBe(false);
    releaseIncomingQos2(c, held[0]);
    sendDeferredAck(c, held[0]);
    await until(() => broker.received.some((p) => p.cmd === 'pubcomp'), 'the PUBCOMP');
    expect(broker.received.find((p) => p.cmd === 'pubcomp')).toMatchObject({ messageId: 7 });
  });

  it('watchStreams sees each socket MQTT.js opens', async () => {
    const c = open();
    let streams = 0;
    watchStreams(c, () => streams++);
    c.connect();
    await until(() => c.connected, 'CONNACK');
    expect(streams).toBe(1);
  });

  it('rearmReconnect sets the delay of the next attempt; stopReconnecting ends them', async () => {
    const c = open();
    c.connect();
    await until(() => c.connected, 'CONNACK');
    const attempts: number[] = [];
    c.on('reconnect', () => attempts.push(Date.now()));
    const lost = Date.now();
    broker.sockets[0].destroy();
    await until(() => !c.connected, 'the loss');
    rearmReconnect(c, 50);
    await until(() => attempts.length >= 1, 'an attempt after 50 ms', 900);
    expect(attempts[0] - lost).toBeLessThan(900); // not the 1000 ms it was built with
    stopReconnecting(c);
    const count = attempts.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(c.reconnecting).toBe(false);
    expect(attempts.length).toBe(count);
  });
});

/**
 * markRedeliveries relies on MQTT.js writing every packet through `_writePacket` (resends from
 * its outgoing store after a reconnect included) and on the `packetreceive` event for acks.
 * Against the fake broker of the e2e suites: it holds acknowledgements and records raw bytes.
 */
describe('markRedeliveries (MQTT-3.3.1-1)', () => {
  const broker = fakeBrokerPerTest({ connack: { sessionPresent: true } });
  const connected = (patch: boolean): Promise<MqttClient> =>
    broker.connected({ clientId: 'internals', clean: false, reconnectPeriod: 50 }, (c) => {
      if (patch) markRedeliveries(c);
    });
  const isResend = (p: { packet: { cmd: string }; connection: number }) =>
    p.packet.cmd === 'publish' && p.connection === 2;

  it('MQTT.js alone still resends with DUP=0 (drop markRedeliveries once this fails)', async () => {
    const c = await connected(false);
    broker.fake.hold('publish');
    c.publish('t', 'x', { qos: 1 });
    await broker.fake.waitFor('the PUBLISH', (p) => p.packet.cmd === 'publish');
    await broker.fake.drop();
    await broker.fake.waitFor('the resend', isResend);
    expect(broker.fake.sent('publish').map((p) => dupBit(p.raw))).toEqual([0, 0]);
  });

  it('the resend after a reconnect goes through _writePacket and gets DUP=1, same packet id', async () => {
    const c = await connected(true);
    broker.fake.hold('publish');
    const done = c.publishAsync('t', 'x', { qos: 1 });
    await broker.fake.waitFor('the PUBLISH', (p) => p.packet.cmd === 'publish');
    await broker.fake.drop();
    broker.fake.release('publish');
    await done;
    const sent = broker.fake.sent('publish');
    expect(sent.map((p) => [p.connection, dupBit(p.raw)])).toEqual([
      [1, 0],
      [2, 1],
    ]);
    expect(sent[1].packet.messageId).toBe(sent[0].packet.messageId);
  });

  it('a message published while offline goes out first with DUP=0', async () => {
    const c = await connected(true);
    await broker.fake.drop();
    await until(() => !c.connected, 'the loss');
    await c.publishAsync('t', 'offline', { qos: 1 });
    expect(broker.fake.sent('publish').map((p) => [p.connection, dupBit(p.raw)])).toEqual([[2, 0]]);
  });

  it('listens to packetreceive only while a QoS 1/2 PUBLISH awaits its answer', async () => {
    const c = await connected(true);
    const listening = () => c.listenerCount('packetreceive');
    expect(listening()).toBe(0);
    await c.publishAsync('t', 'q0', { qos: 0 });
    expect(listening()).toBe(0);
    broker.fake.hold('publish');
    const first = c.publishAsync('t', 'a', { qos: 1 });
    const second = c.publishAsync('t', 'b', { qos: 2 });
    await broker.fake.waitFor('both PUBLISHes', () => broker.fake.sent('publish').length === 3);
    expect(listening()).toBe(1);
    broker.fake.release('publish');
    await Promise.all([first, second]);
    expect(listening()).toBe(0);
    // And again after it stopped: the next answer is still seen (no DUP on a fresh packet).
    await c.publishAsync('t', 'c', { qos: 1 });
    expect(listening()).toBe(0);
    expect(broker.fake.sent('publish').map((p) => dupBit(p.raw))).toEqual([0, 0, 0, 0]);
  });

  it('MQTT-4.4.0-1 / MQTT-3.6.1-1: PUBREL is resent after a reconnect with flags 0b0010', async () => {
    const c = await connected(true);
    broker.fake.hold('pubrel');
    const done = c.publishAsync('t', 'x', { qos: 2 });
    await broker.fake.waitFor('the PUBREL', (p) => p.packet.cmd === 'pubrel');
    await broker.fake.drop();
    broker.fake.release('pubrel');
    await done;
    const pubrels = broker.fake.sent('pubrel');
    expect(pubrels.map((p) => [p.connection, flagBits(p.raw)])).toEqual([
      [1, 0b0010],
      [2, 0b0010],
    ]);
    expect(broker.fake.sent('publish', 2)).toHaveLength(0);
  });
});

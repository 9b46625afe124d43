/**
 * Issue 8 §1-2 on the wire, against a fake broker that records the client's raw bytes:
 * persistent sessions carry a Session Expiry Interval on MQTT 5, and what is resent after a
 * reconnect is marked as a resend (DUP=1), with PUBREL resent as PUBREL.
 */
import { closeApp, waitForState, type MqttTestApp } from '../support';
import {
  dupBit,
  flagBits,
  startFakeBroker,
  type FakeBroker,
  type WirePacket,
} from '../support/fake-broker';
import { startProtocolApp } from './protocol-app';

describe('protocol: redelivery and sessions (issue 8 §1-2)', () => {
  let broker: FakeBroker;
  let started: MqttTestApp | undefined;

  beforeEach(async () => {
    broker = await startFakeBroker({ connack: (_connect, n) => ({ sessionPresent: n > 1 }) });
  });
  afterEach(async () => {
    if (started) await closeApp(started.app);
    started = undefined;
    await broker.stop();
  });

  const publishes = (n?: number) => broker.sent('publish', n);
  const isPublish = (n: number) => (p: WirePacket) =>
    p.packet.cmd === 'publish' && p.connection === n;

  describe.each([
    ['MQTT 5', 'MQTTv5'],
    ['MQTT 3.1.1', 'MQTTv311'],
  ])('%s, persistent session', (_name, version) => {
    const keys = { MQTT_PROTOCOL_VERSION: version, MQTT_CLEAN_SESSION: false };

    it('MQTT-3.3.1-1: every QoS 1 PUBLISH resent after a reconnect has DUP=1, with its packet id', async () => {
      started = await startProtocolApp(broker, keys);
      broker.hold('publish');
      const sent = [1, 2, 3].map((n) => started!.mqtt.publish('dup/q1', `m${n}`, { qos: 1 }));
      await broker.waitFor('three PUBLISHes', () => publishes(1).length === 3);
      await broker.drop();
      // MQTT.js resends one at a time, each after the previous one's PUBACK.
      for (let i = 1; i <= 3; i++) {
        await broker.waitFor(`resend ${i}`, () => publishes(2).length === i);
        broker.answer('publish');
      }
      broker.release('publish');
      await Promise.all(sent);
      const [first, again] = [publishes(1), publishes(2)];
      expect(first.map((p) => dupBit(p.raw))).toEqual([0, 0, 0]);
      expect(again.map((p) => dupBit(p.raw))).toEqual([1, 1, 1]);
      expect(again.map((p) => p.packet.messageId)).toEqual(first.map((p) => p.packet.messageId));
      expect(again.map((p) => String((p.packet as { payload: Buffer }).payload))).toEqual([
        'm1',
        'm2',
        'm3',
      ]);
    });

    it('MQTT-3.3.1-1: a QoS 2 PUBLISH resent before its PUBREC has DUP=1', async () => {
      started = await startProtocolApp(broker, keys);
      broker.hold('publish');
      const sent = started.mqtt.publish('dup/q2', 'x', { qos: 2 });
      await broker.waitFor('the PUBLISH', isPublish(1));
      await broker.drop();
      broker.release('publish');
      await sent;
      expect(publishes().map((p) => [p.connection, dupBit(p.raw), p.packet.messageId])).toEqual([
        [1, 0, publishes(1)[0].packet.messageId],
        [2, 1, publishes(1)[0].packet.messageId],
      ]);
    });

    it('MQTT-4.4.0-1 / MQTT-3.6.1-1: PUBREL is resent after a reconnect once PUBREC arrived, flags 0b0010, and PUBLISH is not', async () => {
      started = await startProtocolApp(broker, keys);
      broker.hold('pubrel');
      const sent = started.mqtt.publish('dup/rel', 'x', { qos: 2 });
      await broker.waitFor('the PUBREL', (p) => p.packet.cmd === 'pubrel');
      await broker.drop();
      broker.release('pubrel');
      await sent;
      const pubrels = broker.sent('pubrel');
      expect(pubrels.map((p) => [p.connection, flagBits(p.raw)])).toEqual([
        [1, 0b0010],
        [2, 0b0010],
      ]);
      expect(pubrels[1].packet.messageId).toBe(pubrels[0].packet.messageId);
      expect(publishes(2)).toHaveLength(0);
    });

    it('a QoS 1 message published while offline goes out once, with DUP=0 (it is no resend)', async () => {
      started = await startProtocolApp(broker, keys);
      await broker.drop();
      await waitForState(started.mqtt, 'offline');
      const sent = started.mqtt.publish('dup/offline', 'x', { qos: 1 });
      await sent;
      expect(publishes().map((p) => [p.connection, dupBit(p.raw)])).toEqual([[2, 0]]);
    });
  });

  it('MQTT-3.3.1-2: QoS 0 PUBLISHes carry DUP=0', async () => {
    started = await startProtocolApp(broker);
    await started.mqtt.publish('dup/q0', 'x');
    await broker.waitFor('the PUBLISH', isPublish(1));
    expect(dupBit(publishes()[0].raw)).toBe(0);
  });

  describe('Session Expiry Interval in CONNECT (MQTT 5 §3.1.2.11.2)', () => {
    const connectOf = async (keys: Record<string, unknown>) => {
      started = await startProtocolApp(broker, keys);
      const connection = await broker.connection(1);
      return connection.connect!;
    };

    it('MQTT_CLEAN_SESSION=false sends 4294967295 (never expires) by default', async () => {
      const connect = await connectOf({ MQTT_CLEAN_SESSION: false });
      expect(connect.clean).toBe(false);
      expect(connect.properties?.sessionExpiryInterval).toBe(4294967295);
    });

    it('MQTT_SESSION_EXPIRY sets it', async () => {
      const connect = await connectOf({ MQTT_CLEAN_SESSION: false, MQTT_SESSION_EXPIRY: 300 });
      expect(connect.properties?.sessionExpiryInterval).toBe(300);
    });

    it('is absent (0: the session ends with the connection) with a clean session by default', async () => {
      const connect = await connectOf({});
      expect(connect.clean).toBe(true);
      expect(connect.properties?.sessionExpiryInterval).toBeUndefined();
    });

    it('MQTT 3.1.1 has none: a persistent session is clean=0 alone', async () => {
      const connect = await connectOf({
        MQTT_PROTOCOL_VERSION: 'MQTTv311',
        MQTT_CLEAN_SESSION: false,
      });
      expect(connect.protocolVersion).toBe(4);
      expect(connect.clean).toBe(false);
      expect(connect.properties).toBeUndefined();
    });

    it('a resumed session (Session Present) is logged as resumed', async () => {
      started = await startProtocolApp(broker, { MQTT_CLEAN_SESSION: false });
      await broker.drop();
      await started.logger.waitFor(/session resumed/, 'log');
    });
  });
});

/**
 * Issue 8 §3 and §5 on the wire: the broker's Receive Maximum bounds our unacknowledged QoS 1/2
 * PUBLISHes (and nothing else), on every connection; our acknowledgements of received QoS 1
 * messages go out in the order the messages arrived.
 */
import { Injectable } from '@nestjs/common';
import { MqttPublishError, Payload, Subscribe } from 'nestjs-mqtt';
import type { IPublishPacket } from 'mqtt-packet';

import { closeApp, delay, rejectionOf, until, type MqttTestApp } from '../support';
import { maxInFlight, startFakeBroker, type FakeBroker } from '../support/fake-broker';
import { startProtocolApp } from './protocol-app';

/** Long enough for a client that ignores the limit to have sent more. */
const QUIET_MS = 150;

@Injectable()
class SlowAcks {
  readonly started: number[] = [];
  private readonly gates = new Map<number, () => void>();

  @Subscribe('inflight/acks', { qos: 1, concurrency: 5 })
  async onMessage(@Payload() n: number): Promise<void> {
    this.started.push(n);
    await new Promise<void>((resolve) => this.gates.set(n, resolve));
  }

  finish(n: number): void {
    this.gates.get(n)!();
  }
}

describe('protocol: in-flight windows and acknowledgement order', () => {
  let broker: FakeBroker;
  let started: MqttTestApp | undefined;

  afterEach(async () => {
    if (started) await closeApp(started.app);
    started = undefined;
    await broker.stop();
  });

  const publishes = (n?: number) => broker.sent('publish', n);
  const payloads = (n?: number) =>
    publishes(n).map((p) => String((p.packet as IPublishPacket).payload));

  /** Sends the held answers one at a time, checking that no extra PUBLISH comes meanwhile. */
  async function stepThrough(count: number, limit: number, connection: number): Promise<void> {
    for (let i = limit; i < count + limit; i++) {
      const expected = Math.min(i, count);
      await broker.waitFor(`PUBLISH ${expected}`, () => publishes(connection).length >= expected);
      await delay(QUIET_MS);
      expect(publishes(connection)).toHaveLength(expected);
      broker.answer('publish', 1);
    }
  }

  it('MQTT-3.3.4-7: Receive Maximum 1, 5 concurrent QoS 2 publishes: never more than 1 unacknowledged, all 5 complete in order', async () => {
    broker = await startFakeBroker({ connack: { properties: { receiveMaximum: 1 } } });
    started = await startProtocolApp(broker);
    broker.hold('publish');
    const resolved: number[] = [];
    const sent = [0, 1, 2, 3, 4].map((n) =>
      started!.mqtt.publish('inflight/q2', String(n), { qos: 2 }).then(() => resolved.push(n)),
    );
    await stepThrough(5, 1, 1);
    await Promise.all(sent);
    expect(payloads()).toEqual(['0', '1', '2', '3', '4']);
    expect(resolved).toEqual([0, 1, 2, 3, 4]);
    expect(broker.sent('pubrel')).toHaveLength(5);
    expect(maxInFlight(broker.timeline)).toBe(1);
  });

  it('MQTT-3.3.4-7: Receive Maximum 3 lets exactly 3 QoS 1 PUBLISHes be in flight', async () => {
    broker = await startFakeBroker({ connack: { properties: { receiveMaximum: 3 } } });
    started = await startProtocolApp(broker);
    broker.hold('publish');
    const sent = Array.from({ length: 6 }, (_, n) =>
      started!.mqtt.publish('inflight/q1', String(n), { qos: 1 }),
    );
    await stepThrough(6, 3, 1);
    await Promise.all(sent);
    expect(payloads()).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(maxInFlight(broker.timeline)).toBe(3);
  });

  it('MQTT-3.3.4-8: a full window delays only PUBLISH: SUBSCRIBE, UNSUBSCRIBE and QoS 0 still go out', async () => {
    broker = await startFakeBroker({ connack: { properties: { receiveMaximum: 1 } } });
    started = await startProtocolApp(broker);
    const { mqtt } = started;
    broker.hold('publish');
    const held = mqtt.publish('inflight/held', 'a', { qos: 1 });
    const waiting = mqtt.publish('inflight/held', 'b', { qos: 1 });
    await broker.waitFor('the first PUBLISH', (p) => p.packet.cmd === 'publish');
    const subscription = await mqtt.subscribe('inflight/other', () => undefined);
    await subscription.unsubscribe();
    await mqtt.publish('inflight/q0', 'c');
    await broker.waitFor('the QoS 0 PUBLISH', () => publishes().length === 2);
    expect(broker.sent('unsubscribe')).toHaveLength(1);
    expect(payloads()).toEqual(['a', 'c']);
    broker.release('publish');
    await Promise.all([held, waiting]);
    expect(payloads()).toEqual(['a', 'c', 'b']);
    expect(maxInFlight(broker.timeline)).toBe(1);
  });

  it('MQTT-3.3.4-7: Receive Maximum is re-read on reconnect (3, then 1)', async () => {
    broker = await startFakeBroker({
      connack: (_connect, n) => ({
        sessionPresent: n > 1,
        properties: { receiveMaximum: n === 1 ? 3 : 1 },
      }),
    });
    started = await startProtocolApp(broker, { MQTT_CLEAN_SESSION: false });
    const { mqtt } = started;
    broker.hold('publish');
    const first = [0, 1, 2].map((n) => mqtt.publish('inflight/re', `a${n}`, { qos: 1 }));
    await broker.waitFor('3 PUBLISHes at once', () => publishes(1).length === 3);
    broker.answer('publish');
    await Promise.all(first);
    await broker.drop();
    await broker.connection(2);
    await until('reconnected', () => mqtt.connected);
    const second = [0, 1, 2].map((n) => mqtt.publish('inflight/re', `b${n}`, { qos: 1 }));
    await stepThrough(3, 1, 2);
    await Promise.all(second);
    expect(payloads(2)).toEqual(['b0', 'b1', 'b2']);
    const onSecond = broker.timeline.filter((t) => t.connection === 2);
    expect(maxInFlight(onSecond)).toBe(1);
  });

  it('MQTT-3.3.4-7: resends after a reconnect stay within the new Receive Maximum, then new publishes follow', async () => {
    broker = await startFakeBroker({
      connack: (_connect, n) => ({
        sessionPresent: n > 1,
        properties: { receiveMaximum: n === 1 ? 3 : 1 },
      }),
    });
    started = await startProtocolApp(broker, { MQTT_CLEAN_SESSION: false });
    const { mqtt } = started;
    broker.hold('publish');
    const first = [0, 1, 2].map((n) => mqtt.publish('inflight/resend', `a${n}`, { qos: 1 }));
    await broker.waitFor('3 PUBLISHes at once', () => publishes(1).length === 3);
    await broker.drop();
    await broker.connection(2);
    const second = [0, 1].map((n) => mqtt.publish('inflight/resend', `b${n}`, { qos: 1 }));
    await stepThrough(5, 1, 2);
    await Promise.all([...first, ...second]);
    expect(payloads(2)).toEqual(['a0', 'a1', 'a2', 'b0', 'b1']);
    expect(maxInFlight(broker.timeline.filter((t) => t.connection === 2))).toBe(1);
  });

  it('MQTT_PUBLISH_TIMEOUT ends the wait for a slot: that publish rejects and is never sent', async () => {
    broker = await startFakeBroker({ connack: { properties: { receiveMaximum: 1 } } });
    started = await startProtocolApp(broker, { MQTT_PUBLISH_TIMEOUT: 0.3 });
    const { mqtt } = started;
    broker.hold('publish');
    const inFlight = rejectionOf(mqtt.publish('inflight/timeout', 'a', { qos: 1 }));
    const waiting = rejectionOf(mqtt.publish('inflight/timeout', 'b', { qos: 1 }));
    expect((await inFlight).message).toContain('stays queued and may still be delivered');
    const error = await waiting;
    expect(error).toBeInstanceOf(MqttPublishError);
    expect(error.message).toContain('waited for one of the 1 in-flight slots');
    expect(error.message).toContain('it was not sent');
    broker.release('publish');
    await broker.waitFor('the PUBACK', () =>
      broker.timeline.some((t) => t.packet.cmd === 'puback'),
    );
    await delay(QUIET_MS);
    expect(payloads()).toEqual(['a']);
  });

  it('app.close() rejects the publishes still waiting for a slot', async () => {
    broker = await startFakeBroker({ connack: { properties: { receiveMaximum: 1 } } });
    started = await startProtocolApp(broker);
    const { app, mqtt } = started;
    broker.hold('publish');
    mqtt.publish('inflight/close', 'a', { qos: 1 }).catch(() => undefined);
    const waiting = rejectionOf(mqtt.publish('inflight/close', 'b', { qos: 1 }));
    await broker.waitFor('the first PUBLISH', () => publishes().length === 1);
    await closeApp(app);
    started = undefined;
    const error = await waiting;
    expect(error).toBeInstanceOf(MqttPublishError);
    expect(error.message).toContain('client is closed');
    expect(payloads()).toEqual(['a']);
  });

  it('MQTT-4.6.0-2: PUBACKs go out in arrival order even when later handlers finish first', async () => {
    broker = await startFakeBroker();
    started = await startProtocolApp(broker, {}, [SlowAcks]);
    const handler = started.app.get(SlowAcks);
    for (let id = 1; id <= 5; id++) {
      broker.publish({
        topic: 'inflight/acks',
        payload: Buffer.from(String(id)),
        qos: 1,
        messageId: id,
      });
    }
    await until('5 handlers running', () => handler.started.length === 5);
    for (const n of [5, 4, 3, 2]) handler.finish(n);
    await delay(QUIET_MS);
    expect(broker.sent('puback')).toEqual([]);
    handler.finish(1);
    await broker.waitFor('5 PUBACKs', () => broker.sent('puback').length === 5);
    expect(broker.sent('puback').map((p) => p.packet.messageId)).toEqual([1, 2, 3, 4, 5]);
  });
});

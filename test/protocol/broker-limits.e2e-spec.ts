/**
 * Issue 8 §3 on the wire: the limits an MQTT 5 CONNACK announces are obeyed, proven by what a
 * fake broker announcing them receives (and what the caller is told instead).
 */
import { Injectable } from '@nestjs/common';
import {
  MqttPublishError,
  MqttSubscribeError,
  Subscribe,
  Topic,
  type MqttModuleOptions,
} from 'nestjs-mqtt';
import type { IConnackPacket, IPublishPacket, ISubscribePacket } from 'mqtt-packet';

import { closeApp, rejectionOf, until, type MqttTestApp } from '../support';
import { startFakeBroker, type FakeBroker } from '../support/fake-broker';
import { compileProtocolApp, startProtocolApp } from './protocol-app';

type Limits = IConnackPacket['properties'];

@Injectable()
class QosTwoHandler {
  @Subscribe('limits/qos', { qos: 2 })
  onMessage(): void {}
}

@Injectable()
class WildcardHandler {
  @Subscribe('limits/+/wild')
  onMessage(): void {}
}

@Injectable()
class PlainHandler {
  readonly topics: string[] = [];
  @Subscribe('limits/plain', { qos: 1 })
  onMessage(@Topic() topic: string): void {
    this.topics.push(topic);
  }
}

@Injectable()
class LongFilterHandler {
  @Subscribe('limits/a/rather/long/filter/name')
  onMessage(): void {}
}

describe('protocol: the broker limits of an MQTT 5 CONNACK (issue 8 §3)', () => {
  let broker: FakeBroker;
  let started: MqttTestApp | undefined;

  afterEach(async () => {
    if (started) await closeApp(started.app);
    started = undefined;
    await broker.stop();
  });

  async function withLimits(
    properties: Limits,
    options: MqttModuleOptions = {},
    providers: Parameters<typeof startProtocolApp>[2] = [],
  ): Promise<MqttTestApp> {
    broker = await startFakeBroker({ connack: { properties } });
    started = await startProtocolApp(broker, options, providers);
    return started;
  }

  /** Bootstraps an app that must fail; resolves with the error. */
  async function bootstrapError(
    properties: Limits,
    options: MqttModuleOptions,
    providers: Parameters<typeof startProtocolApp>[2],
  ): Promise<Error> {
    broker = await startFakeBroker({ connack: { properties } });
    const app = await compileProtocolApp(broker, options, providers);
    const error = await rejectionOf(app.app.init());
    await closeApp(app.app);
    return error;
  }

  const publishes = () => broker.sent('publish').map((p) => p.packet as IPublishPacket);
  const subscribes = () => broker.sent('subscribe').map((p) => p.packet as ISubscribePacket);

  describe('Maximum QoS', () => {
    it('MQTT-3.2.2-11: never a PUBLISH above it; publish() rejects naming the limit', async () => {
      const { mqtt } = await withLimits({ maximumQoS: 1 });
      const error = await rejectionOf(mqtt.publish('limits/q', 'x', { qos: 2 }));
      expect(error).toBeInstanceOf(MqttPublishError);
      expect(error.message).toContain('at QoS 2: the broker accepts at most QoS 1');
      await mqtt.publish('limits/q', 'y', { qos: 1 });
      expect(publishes().map((p) => p.qos)).toEqual([1]);
    });

    it('MQTT-3.2.2-11: Maximum QoS 0 refuses QoS 1 as well', async () => {
      const { mqtt } = await withLimits({ maximumQoS: 0 });
      await expect(mqtt.publish('limits/q', 'x', { qos: 1 })).rejects.toThrow('at most QoS 0');
      await mqtt.publish('limits/q', 'y');
      await broker.waitFor('the QoS 0 PUBLISH', (p) => p.packet.cmd === 'publish');
      expect(publishes().map((p) => p.qos)).toEqual([0]);
    });

    it('a subscription above it is a warning with the granted QoS, not an error', async () => {
      const { logger } = await withLimits({ maximumQoS: 1 }, {}, [QosTwoHandler]);
      const line = await logger.waitFor(/granted QoS 1 instead of 2/, 'warn');
      expect(line.message).toBe('The broker granted QoS 1 instead of 2 for "limits/qos"');
      expect(logger.at('error')).toEqual([]);
      expect(subscribes()[0].subscriptions[0].qos).toBe(2);
    });
  });

  describe('Maximum Packet Size', () => {
    it('MQTT-3.2.2-15: never a larger PUBLISH; the error names the size and the limit', async () => {
      const { mqtt } = await withLimits({ maximumPacketSize: 100 });
      const error = await rejectionOf(mqtt.publish('limits/big', Buffer.alloc(200), { qos: 1 }));
      expect(error).toBeInstanceOf(MqttPublishError);
      expect(error.message).toMatch(/would be 2\d\d bytes, but the broker accepts .* at most 100/);
      await mqtt.publish('limits/big', Buffer.alloc(50), { qos: 1 });
      expect(broker.sent('publish')).toHaveLength(1);
      expect(Math.max(...broker.packets.map((p) => p.raw.length))).toBeLessThanOrEqual(100);
    });

    it('MQTT-3.2.2-15: never a larger SUBSCRIBE; subscribe() rejects naming size and limit', async () => {
      const { mqtt } = await withLimits({ maximumPacketSize: 30 });
      const filter = 'limits/this/filter/is/far/too/long';
      const error = await rejectionOf(mqtt.subscribe(filter, () => undefined));
      expect(error).toBeInstanceOf(MqttSubscribeError);
      expect(error.message).toMatch(/SUBSCRIBE packet would be \d+ bytes, .* at most 30 bytes/);
      expect(error.message).toContain(filter);
      expect(subscribes()).toEqual([]);
      expect(mqtt.topics).toEqual([]);
    });

    it('MQTT-3.2.2-15: a @Subscribe filter too large for the broker fails the bootstrap', async () => {
      const error = await bootstrapError({ maximumPacketSize: 30 }, {}, [LongFilterHandler]);
      expect(error).toBeInstanceOf(MqttSubscribeError);
      expect(error.message).toContain('limits/a/rather/long/filter/name');
      expect(error.message).toContain('at most 30 bytes');
      expect(subscribes()).toEqual([]);
    });
  });

  it('MQTT-3.2.2-14: Retain Available 0: a retained publish rejects, nothing retained is sent', async () => {
    const { mqtt } = await withLimits({ retainAvailable: false });
    const error = await rejectionOf(mqtt.publish('limits/r', 'x', { qos: 1, retain: true }));
    expect(error).toBeInstanceOf(MqttPublishError);
    expect(error.message).toContain('does not support retained messages');
    await mqtt.publish('limits/r', 'x', { qos: 1 });
    expect(broker.sent('publish').map((p) => p.raw[0] & 1)).toEqual([0]);
  });

  it('Wildcard Subscription Available 0: bootstrap fails naming the filter, nothing subscribed', async () => {
    const error = await bootstrapError({ wildcardSubscriptionAvailable: false }, {}, [
      WildcardHandler,
    ]);
    expect(error).toBeInstanceOf(MqttSubscribeError);
    expect(error.message).toContain('"limits/+/wild"');
    expect(error.message).toContain('does not support wildcard subscriptions');
    expect(subscribes()).toEqual([]);
  });

  it('Shared Subscription Available 0: bootstrap fails naming MQTT_SHARED_GROUP', async () => {
    const error = await bootstrapError(
      { sharedSubscriptionAvailable: false },
      { MQTT_SHARED_GROUP: 'workers' },
      [PlainHandler],
    );
    expect(error).toBeInstanceOf(MqttSubscribeError);
    expect(error.message).toContain('"$share/workers/limits/plain"');
    expect(error.message).toContain('MQTT_SHARED_GROUP');
    expect(subscribes()).toEqual([]);
  });

  it('Subscription Identifiers Available 0: SUBSCRIBE carries none, and routing still works', async () => {
    const { app } = await withLimits({ subscriptionIdentifiersAvailable: false }, {}, [
      PlainHandler,
    ]);
    expect(subscribes()).toHaveLength(1);
    expect(subscribes()[0].properties?.subscriptionIdentifier).toBeUndefined();
    broker.publish({ topic: 'limits/plain', payload: Buffer.from('x'), qos: 1, messageId: 5 });
    const handler = app.get(PlainHandler);
    await until('the message', () => handler.topics.length === 1);
    await broker.waitFor('its PUBACK', (p) => p.packet.cmd === 'puback');
  });

  it('sends Subscription Identifiers where the broker supports them (the default)', async () => {
    await withLimits({}, {}, [PlainHandler]);
    expect(subscribes()[0].properties?.subscriptionIdentifier).toEqual(expect.any(Number));
  });

  describe('Topic Alias Maximum', () => {
    const alias = (topicAlias: number) => ({ qos: 1 as const, properties: { topicAlias } });

    it('MQTT-3.2.2-18: absent (0): no Topic Alias is ever sent', async () => {
      const { mqtt } = await withLimits({});
      const error = await rejectionOf(mqtt.publish('limits/a', 'x', alias(1)));
      expect(error).toBeInstanceOf(MqttPublishError);
      expect(error.message).toContain('accepts no topic aliases');
      expect(publishes()).toEqual([]);
    });

    it('MQTT-3.2.2-17: never a Topic Alias above the maximum', async () => {
      const { mqtt } = await withLimits({ topicAliasMaximum: 2 });
      await expect(mqtt.publish('limits/a', 'x', alias(3))).rejects.toThrow('aliases 1 to 2');
      await mqtt.publish('limits/a', 'y', alias(2));
      expect(publishes().map((p) => p.properties?.topicAlias)).toEqual([2]);
    });
  });

  it('unsubscribe(filter) sends UNSUBSCRIBE for a filter this process never subscribed', async () => {
    const { mqtt } = await withLimits({});
    await mqtt.unsubscribe('old/+/leftover');
    const [unsubscribe] = broker.sent('unsubscribe');
    expect(unsubscribe.packet).toEqual(
      expect.objectContaining({ unsubscriptions: ['old/+/leftover'] }),
    );
  });

  it('every limit is re-read on reconnect: a second CONNACK with other limits is obeyed', async () => {
    const announced = [
      { maximumQoS: 2, retainAvailable: true, maximumPacketSize: 1000 },
      { maximumQoS: 0, retainAvailable: false, maximumPacketSize: 60 },
    ];
    broker = await startFakeBroker({
      connack: (_connect, n) => ({ properties: announced[Math.min(n, 2) - 1] }),
    });
    started = await startProtocolApp(broker);
    const { mqtt } = started;
    await mqtt.publish('limits/re', 'x', { qos: 2, retain: true });
    await broker.drop();
    await broker.connection(2);
    await until('reconnected', () => mqtt.connected);
    await expect(mqtt.publish('limits/re', 'x', { qos: 1 })).rejects.toThrow('at most QoS 0');
    await expect(mqtt.publish('limits/re', 'x', { retain: true })).rejects.toThrow('retained');
    await expect(mqtt.publish('limits/re', Buffer.alloc(100))).rejects.toThrow('at most 60');
    await mqtt.publish('limits/re', 'ok');
    await broker.waitFor(
      'the QoS 0 PUBLISH',
      (p) => p.packet.cmd === 'publish' && p.connection === 2,
    );
    expect(broker.sent('publish', 2).map((p) => (p.packet as IPublishPacket).qos)).toEqual([0]);
  });
});

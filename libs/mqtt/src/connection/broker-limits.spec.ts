import { generate } from 'mqtt-packet';
import {
  DEFAULT_BROKER_LIMITS,
  brokerLimitsFrom,
  publishPacketSize,
  publishProblem,
  subscribePacketSize,
  subscribeProblem,
  unsubscribeProblem,
  type BrokerLimits,
} from './broker-limits';

const limits = (properties: NonNullable<Parameters<typeof brokerLimitsFrom>[0]>['properties']) =>
  brokerLimitsFrom({ sessionPresent: false, properties });

describe('brokerLimitsFrom', () => {
  it('gives the MQTT 5 defaults for a CONNACK without properties (and for MQTT 3.x)', () => {
    expect(brokerLimitsFrom({ sessionPresent: false })).toEqual(DEFAULT_BROKER_LIMITS);
    expect(brokerLimitsFrom(undefined)).toEqual(DEFAULT_BROKER_LIMITS);
    expect(DEFAULT_BROKER_LIMITS).toEqual({
      maximumQos: 2,
      receiveMaximum: 65535,
      retainAvailable: true,
      wildcardSubscriptionAvailable: true,
      sharedSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      topicAliasMaximum: 0,
      sessionPresent: false,
    });
  });

  it('reads every limit the CONNACK announces', () => {
    expect(
      brokerLimitsFrom({
        sessionPresent: true,
        properties: {
          maximumQoS: 1,
          receiveMaximum: 7,
          maximumPacketSize: 300,
          retainAvailable: false,
          wildcardSubscriptionAvailable: false,
          sharedSubscriptionAvailable: false,
          subscriptionIdentifiersAvailable: false,
          topicAliasMaximum: 4,
        },
      }),
    ).toEqual({
      maximumQos: 1,
      receiveMaximum: 7,
      maximumPacketSize: 300,
      retainAvailable: false,
      wildcardSubscriptionAvailable: false,
      sharedSubscriptionAvailable: false,
      subscriptionIdentifiersAvailable: false,
      topicAliasMaximum: 4,
      sessionPresent: true,
    });
  });

  it('falls back to the default for values the protocol forbids', () => {
    const l = limits({ receiveMaximum: 0, maximumQoS: 7, maximumPacketSize: 0 });
    expect(l.receiveMaximum).toBe(65535);
    expect(l.maximumQos).toBe(2);
    expect(l.maximumPacketSize).toBeUndefined();
  });
});

describe('publishProblem', () => {
  const publish = { topic: 't/1', payload: Buffer.from('hello'), qos: 0 as const };

  it('lets everything through under the defaults', () => {
    expect(publishProblem(DEFAULT_BROKER_LIMITS, { ...publish, qos: 2, retain: true }, 5)).toBe(
      undefined,
    );
  });

  it('MQTT-3.2.2-11: refuses a QoS above Maximum QoS, naming the QoS and the limit', () => {
    const l = limits({ maximumQoS: 1 });
    expect(publishProblem(l, { ...publish, qos: 1 }, 5)).toBeUndefined();
    const text = publishProblem(l, { ...publish, qos: 2 }, 5);
    expect(text).toContain('"t/1" at QoS 2');
    expect(text).toContain('at most QoS 1 (Maximum QoS');
    expect(publishProblem(limits({ maximumQoS: 0 }), { ...publish, qos: 1 }, 5)).toContain(
      'at most QoS 0',
    );
  });

  it('MQTT-3.2.2-14: refuses RETAIN when Retain Available is 0', () => {
    const l = limits({ retainAvailable: false });
    expect(publishProblem(l, publish, 5)).toBeUndefined();
    expect(publishProblem(l, { ...publish, retain: true }, 5)).toMatch(
      /retained message to "t\/1".*Retain Available is 0.*without retain/,
    );
  });

  it('MQTT-3.2.2-17/18: refuses a Topic Alias above Topic Alias Maximum (0: any alias)', () => {
    const withAlias = (topicAlias: number) => ({ ...publish, properties: { topicAlias } });
    expect(publishProblem(DEFAULT_BROKER_LIMITS, withAlias(1), 5)).toContain(
      'accepts no topic aliases',
    );
    const l = limits({ topicAliasMaximum: 3 });
    expect(publishProblem(l, withAlias(3), 5)).toBeUndefined();
    expect(publishProblem(l, withAlias(4), 5)).toContain('aliases 1 to 3 only');
  });

  it('MQTT-3.2.2-15: refuses a packet above Maximum Packet Size, naming size and limit', () => {
    const big = { ...publish, qos: 1 as const, payload: Buffer.alloc(100) };
    const size = generate(
      { cmd: 'publish', ...big, retain: false, dup: false, messageId: 1 },
      {
        protocolVersion: 5,
      },
    ).length;
    expect(publishPacketSize(big, 5)).toBe(size);
    expect(publishProblem(limits({ maximumPacketSize: size }), big, 5)).toBeUndefined();
    const text = publishProblem(limits({ maximumPacketSize: size - 1 }), big, 5);
    expect(text).toContain(`would be ${size} bytes`);
    expect(text).toContain(`at most ${size - 1} bytes`);
  });

  it('counts MQTT 5 properties and string payloads in the size', () => {
    const withProps = {
      ...publish,
      payload: 'héllo',
      properties: { userProperties: { a: 'b'.repeat(50) } },
    };
    const size = publishPacketSize(withProps, 5);
    expect(size).toBeGreaterThan(60);
    expect(publishProblem(limits({ maximumPacketSize: size - 1 }), withProps, 5)).toContain(
      `would be ${size} bytes`,
    );
    expect(publishProblem(limits({ maximumPacketSize: size }), withProps, 5)).toBeUndefined();
  });
});

describe('subscribeProblem', () => {
  const sub = (topic: string) => ({ topic, qos: 1 as const });
  const none: BrokerLimits = limits({
    wildcardSubscriptionAvailable: false,
    sharedSubscriptionAvailable: false,
  });

  it('refuses wildcard filters when Wildcard Subscription Available is 0', () => {
    expect(subscribeProblem(none, [sub('a/b')], 5)).toBeUndefined();
    expect(subscribeProblem(none, [sub('a/b'), sub('a/+')], 5)).toContain('"a/+"');
    expect(subscribeProblem(none, [sub('#')], 5)).toContain('wildcard subscriptions');
  });

  it('refuses $share filters when Shared Subscription Available is 0, naming MQTT_SHARED_GROUP', () => {
    const text = subscribeProblem(none, [sub('$share/g/a/b')], 5);
    expect(text).toContain('"$share/g/a/b"');
    expect(text).toContain('MQTT_SHARED_GROUP');
  });

  it('looks for wildcards after the $share/<group>/ prefix only', () => {
    const l = limits({ wildcardSubscriptionAvailable: false });
    expect(subscribeProblem(l, [sub('$share/g/a/b')], 5)).toBeUndefined();
    expect(subscribeProblem(l, [sub('$share/g/a/#')], 5)).toContain('wildcard');
  });

  it('MQTT-3.2.2-15: refuses a SUBSCRIBE above Maximum Packet Size, naming size and limit', () => {
    const subs = [sub('a/very/long/topic/filter/indeed')];
    const size = subscribePacketSize(subs, 5, 1);
    expect(size).toBe(
      generate(
        {
          cmd: 'subscribe',
          messageId: 1,
          subscriptions: [{ ...subs[0], nl: false, rap: false, rh: 0 }],
          properties: { subscriptionIdentifier: 1 },
        },
        { protocolVersion: 5 },
      ).length,
    );
    expect(subscribeProblem(limits({ maximumPacketSize: size }), subs, 5, 1)).toBeUndefined();
    expect(subscribeProblem(limits({ maximumPacketSize: size - 1 }), subs, 5, 1)).toContain(
      `would be ${size} bytes, but the broker accepts packets of at most ${size - 1}`,
    );
  });

  it('sizes UNSUBSCRIBE too', () => {
    const l = limits({ maximumPacketSize: 10 });
    expect(unsubscribeProblem(l, ['a'], 5)).toBeUndefined();
    expect(unsubscribeProblem(l, ['a/long/filter'], 5)).toMatch(/would be \d+ bytes/);
    expect(unsubscribeProblem(DEFAULT_BROKER_LIMITS, ['x'.repeat(1000)], 5)).toBeUndefined();
  });

  it('a QoS above Maximum QoS is no error (the broker grants less)', () => {
    const l = limits({ maximumQoS: 0 });
    expect(subscribeProblem(l, [{ topic: 'a', qos: 2 }], 5)).toBeUndefined();
  });
});

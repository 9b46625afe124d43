import { generate, type IPublishPacket, type ISubscribePacket } from 'mqtt-packet';
import * as messages from './connection.messages';

/** A QoS level of MQTT. */
type Qos = 0 | 1 | 2;

/**
 * What the broker allows on this connection, read from its CONNACK (MQTT 5 properties; MQTT 3.x
 * brokers announce nothing, so everything has its default). Read again on every (re)connect.
 */
export interface BrokerLimits {
  /** Highest QoS of a PUBLISH the client may send (MQTT-3.2.2-11). @default 2 */
  readonly maximumQos: Qos;
  /** Most unacknowledged QoS 1/2 PUBLISHes in flight (MQTT-3.3.4-7). @default 65535 */
  readonly receiveMaximum: number;
  /** Largest packet the broker accepts, in bytes (MQTT-3.2.2-15); undefined: no limit. */
  readonly maximumPacketSize?: number;
  /** Whether a PUBLISH may set RETAIN (MQTT-3.2.2-14). @default true */
  readonly retainAvailable: boolean;
  /** Whether subscription filters may hold `+` and `#`. @default true */
  readonly wildcardSubscriptionAvailable: boolean;
  /** Whether `$share/<group>/` filters are supported. @default true */
  readonly sharedSubscriptionAvailable: boolean;
  /** Whether SUBSCRIBE may carry a Subscription Identifier. @default true */
  readonly subscriptionIdentifiersAvailable: boolean;
  /** Highest Topic Alias the client may send; 0: none (MQTT-3.2.2-17/18). @default 0 */
  readonly topicAliasMaximum: number;
  /** Whether the broker resumed a session (CONNACK Session Present). @default false */
  readonly sessionPresent: boolean;
}

/** The CONNACK fields the limits come from (an MQTT.js / mqtt-packet `IConnackPacket`). */
export interface ConnackLike {
  readonly sessionPresent?: boolean;
  readonly properties?: {
    readonly maximumQoS?: number;
    readonly receiveMaximum?: number;
    readonly maximumPacketSize?: number;
    readonly retainAvailable?: boolean;
    readonly wildcardSubscriptionAvailable?: boolean;
    readonly sharedSubscriptionAvailable?: boolean;
    readonly subscriptionIdentifiersAvailable?: boolean;
    readonly topicAliasMaximum?: number;
  };
}

/** The largest Receive Maximum MQTT 5 can express, and its default. */
export const MAX_RECEIVE_MAXIMUM = 65535;

/** The limits before any CONNACK, and of an MQTT 3.x broker: the protocol's defaults. */
export const DEFAULT_BROKER_LIMITS: BrokerLimits = Object.freeze({
  maximumQos: 2,
  receiveMaximum: MAX_RECEIVE_MAXIMUM,
  retainAvailable: true,
  wildcardSubscriptionAvailable: true,
  sharedSubscriptionAvailable: true,
  subscriptionIdentifiersAvailable: true,
  topicAliasMaximum: 0,
  sessionPresent: false,
});

/**
 * The limits a CONNACK announces, with the MQTT 5 default for each property it leaves out.
 * Values the protocol forbids (Receive Maximum 0, Maximum QoS 2 sent explicitly) fall back to
 * the default rather than stopping every publish.
 */
export function brokerLimitsFrom(connack: ConnackLike | undefined): BrokerLimits {
  const p = connack?.properties ?? {};
  const qos = p.maximumQoS;
  const receive = p.receiveMaximum;
  const size = p.maximumPacketSize;
  return Object.freeze({
    maximumQos: qos === 0 || qos === 1 ? qos : 2,
    receiveMaximum:
      receive !== undefined && Number.isInteger(receive) && receive >= 1
        ? Math.min(receive, MAX_RECEIVE_MAXIMUM)
        : MAX_RECEIVE_MAXIMUM,
    ...(size !== undefined && Number.isInteger(size) && size > 0 && { maximumPacketSize: size }),
    retainAvailable: p.retainAvailable ?? true,
    wildcardSubscriptionAvailable: p.wildcardSubscriptionAvailable ?? true,
    sharedSubscriptionAvailable: p.sharedSubscriptionAvailable ?? true,
    subscriptionIdentifiersAvailable: p.subscriptionIdentifiersAvailable ?? true,
    topicAliasMaximum: p.topicAliasMaximum ?? 0,
    sessionPresent: connack?.sessionPresent ?? false,
  });
}

/** What {@link publishProblem} checks. */
export interface OutgoingPublish {
  readonly topic: string;
  readonly payload: Buffer | string;
  readonly qos: Qos;
  readonly retain?: boolean;
  readonly properties?: IPublishPacket['properties'];
}

/** One filter of a SUBSCRIBE, as {@link subscribeProblem} checks it. */
export interface OutgoingSubscription {
  /** The filter as sent, `$share/<group>/` prefix included. */
  readonly topic: string;
  readonly qos: Qos;
  readonly nl?: boolean;
  readonly rap?: boolean;
  readonly rh?: number;
}

/**
 * Why `limits` forbid this PUBLISH, as an error text for the caller; undefined when it may go.
 * Checks Maximum QoS, Retain Available, Topic Alias Maximum and Maximum Packet Size.
 */
export function publishProblem(
  limits: BrokerLimits,
  publish: OutgoingPublish,
  protocolVersion: number,
): string | undefined {
  if (publish.qos > limits.maximumQos) {
    return messages.PUBLISH_QOS_ABOVE_MAXIMUM(publish.topic, publish.qos, limits.maximumQos);
  }
  if (publish.retain && !limits.retainAvailable) {
    return messages.PUBLISH_RETAIN_UNAVAILABLE(publish.topic);
  }
  const alias = protocolVersion === 5 ? publish.properties?.topicAlias : undefined;
  if (alias !== undefined && alias > limits.topicAliasMaximum) {
    return messages.PUBLISH_TOPIC_ALIAS_ABOVE_MAXIMUM(
      publish.topic,
      alias,
      limits.topicAliasMaximum,
    );
  }
  const maximum = limits.maximumPacketSize;
  if (maximum !== undefined && !surelyFits(publish, protocolVersion, maximum)) {
    const size = publishPacketSize(publish, protocolVersion);
    if (size > maximum) return messages.PUBLISH_TOO_LARGE(publish.topic, size, maximum);
  }
  return undefined;
}

/**
 * Why `limits` forbid this SUBSCRIBE, as an error text; undefined when it may go. Checks
 * Wildcard and Shared Subscription Available and Maximum Packet Size. A QoS above Maximum QoS is
 * allowed: the broker grants less, and the SUBACK's granted QoS is reported as a warning.
 */
export function subscribeProblem(
  limits: BrokerLimits,
  subscriptions: readonly OutgoingSubscription[],
  protocolVersion: number,
  subscriptionIdentifier?: number,
): string | undefined {
  for (const { topic } of subscriptions) {
    const shared = topic.startsWith('$share/');
    if (shared && !limits.sharedSubscriptionAvailable) return messages.SHARED_UNAVAILABLE(topic);
    const filter = shared ? topic.slice(topic.indexOf('/', 7) + 1) : topic;
    if (!limits.wildcardSubscriptionAvailable && /[+#]/.test(filter)) {
      return messages.WILDCARD_UNAVAILABLE(topic);
    }
  }
  const maximum = limits.maximumPacketSize;
  if (maximum !== undefined) {
    const size = subscribePacketSize(subscriptions, protocolVersion, subscriptionIdentifier);
    if (size > maximum) {
      return messages.SUBSCRIBE_TOO_LARGE(
        subscriptions.map((s) => s.topic),
        size,
        maximum,
      );
    }
  }
  return undefined;
}

/** Why `limits` forbid an UNSUBSCRIBE of `filters` (only its size can be wrong); or undefined. */
export function unsubscribeProblem(
  limits: BrokerLimits,
  filters: readonly string[],
  protocolVersion: number,
): string | undefined {
  const maximum = limits.maximumPacketSize;
  if (maximum === undefined) return undefined;
  const size = generate(
    { cmd: 'unsubscribe', messageId: 1, unsubscriptions: [...filters] },
    { protocolVersion },
  ).length;
  return size > maximum ? messages.UNSUBSCRIBE_TOO_LARGE(filters, size, maximum) : undefined;
}

/** The exact size in bytes of the PUBLISH packet (fixed header included), as mqtt-packet writes it. */
export function publishPacketSize(publish: OutgoingPublish, protocolVersion: number): number {
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: publish.topic,
    payload: publish.payload,
    qos: publish.qos,
    retain: publish.retain ?? false,
    dup: false,
    ...(publish.qos > 0 && { messageId: 1 }),
    ...(protocolVersion === 5 && publish.properties && { properties: publish.properties }),
  };
  return generate(packet, { protocolVersion }).length;
}

/** The exact size in bytes of the SUBSCRIBE packet for `subscriptions`. */
export function subscribePacketSize(
  subscriptions: readonly OutgoingSubscription[],
  protocolVersion: number,
  subscriptionIdentifier?: number,
): number {
  const packet: ISubscribePacket = {
    cmd: 'subscribe',
    messageId: 1,
    subscriptions: subscriptions.map((s) => ({
      topic: s.topic,
      qos: s.qos,
      ...(protocolVersion === 5 && {
        nl: s.nl ?? false,
        rap: s.rap ?? false,
        rh: s.rh ?? 0,
      }),
    })),
    ...(protocolVersion === 5 &&
      subscriptionIdentifier !== undefined && { properties: { subscriptionIdentifier } }),
  };
  return generate(packet, { protocolVersion }).length;
}

/**
 * True when the PUBLISH is certainly within `maximum` without generating it: payload, topic and
 * the largest possible header (5-byte fixed header, topic length, packet id, empty properties).
 * Keeps the exact (allocating) size computation to packets near the limit.
 */
function surelyFits(publish: OutgoingPublish, protocolVersion: number, maximum: number): boolean {
  if (protocolVersion === 5 && publish.properties) return false;
  const payload =
    typeof publish.payload === 'string'
      ? Buffer.byteLength(publish.payload)
      : publish.payload.length;
  return payload + Buffer.byteLength(publish.topic) + 5 + 2 + 2 + 1 <= maximum;
}

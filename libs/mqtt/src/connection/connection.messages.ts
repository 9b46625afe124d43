/**
 * Every text the connection layer throws or logs about the broker: its limits (MQTT 5 CONNACK),
 * the in-flight window, and what a broker lacks (MQTT 5, QoS 2, shared subscriptions), one
 * function each: what was wrong, the value and the limit, and what to do.
 */

const quote = (text: string) => JSON.stringify(text).slice(0, 200);

/** MQTT-3.2.2-11: a PUBLISH above the broker's Maximum QoS. */
export const PUBLISH_QOS_ABOVE_MAXIMUM = (topic: string, qos: number, maximum: number) =>
  `Cannot publish to ${quote(topic)} at QoS ${qos}: the broker accepts at most QoS ${maximum} (Maximum QoS in its CONNACK). Publish with qos ${maximum} or lower, or use a broker that supports QoS ${qos}.`;

/** MQTT-3.2.2-14: a retained PUBLISH to a broker without retained messages. */
export const PUBLISH_RETAIN_UNAVAILABLE = (topic: string) =>
  `Cannot publish a retained message to ${quote(topic)}: the broker does not support retained messages (Retain Available is 0 in its CONNACK). Publish without retain, or enable retained messages on the broker.`;

/** MQTT-3.2.2-17 / MQTT-3.2.2-18: a Topic Alias above the broker's Topic Alias Maximum. */
export const PUBLISH_TOPIC_ALIAS_ABOVE_MAXIMUM = (topic: string, alias: number, maximum: number) =>
  maximum === 0
    ? `Cannot publish to ${quote(topic)} with Topic Alias ${alias}: the broker accepts no topic aliases (Topic Alias Maximum is 0 or absent in its CONNACK). Remove properties.topicAlias.`
    : `Cannot publish to ${quote(topic)} with Topic Alias ${alias}: the broker accepts aliases 1 to ${maximum} only (Topic Alias Maximum in its CONNACK). Use an alias from 1 to ${maximum}.`;

/** MQTT-3.2.2-15: a PUBLISH larger than the broker's Maximum Packet Size. */
export const PUBLISH_TOO_LARGE = (topic: string, size: number, maximum: number) =>
  `Cannot publish to ${quote(topic)}: the PUBLISH packet would be ${size} bytes, but the broker accepts packets of at most ${maximum} bytes (Maximum Packet Size in its CONNACK). Send a smaller payload or fewer properties, or raise the broker's limit (Mosquitto: max_packet_size).`;

/** MQTT-3.2.2-15: a SUBSCRIBE larger than the broker's Maximum Packet Size. */
export const SUBSCRIBE_TOO_LARGE = (filters: readonly string[], size: number, maximum: number) =>
  `Cannot subscribe to ${filters.map(quote).join(', ')}: the SUBSCRIBE packet would be ${size} bytes, but the broker accepts packets of at most ${maximum} bytes (Maximum Packet Size in its CONNACK). Use a shorter filter, or raise the broker's limit (Mosquitto: max_packet_size).`;

/** MQTT-3.2.2-15: an UNSUBSCRIBE larger than the broker's Maximum Packet Size. */
export const UNSUBSCRIBE_TOO_LARGE = (filters: readonly string[], size: number, maximum: number) =>
  `Cannot unsubscribe from ${filters.map(quote).join(', ')}: the UNSUBSCRIBE packet would be ${size} bytes, but the broker accepts packets of at most ${maximum} bytes (Maximum Packet Size in its CONNACK). Unsubscribe from fewer filters at once, or raise the broker's limit.`;

/** A wildcard filter on a broker that announced Wildcard Subscription Available 0. */
export const WILDCARD_UNAVAILABLE = (filter: string) =>
  `Cannot subscribe to ${quote(filter)}: the broker does not support wildcard subscriptions (Wildcard Subscription Available is 0 in its CONNACK), so nothing would ever arrive. Subscribe to exact topic names without "+" and "#", or enable wildcards on the broker.`;

/** A `$share/` filter on a broker that announced Shared Subscription Available 0. */
export const SHARED_UNAVAILABLE = (filter: string) =>
  `Cannot subscribe to ${quote(filter)}: the broker does not support shared subscriptions (Shared Subscription Available is 0 in its CONNACK), so the group would receive nothing. Unset MQTT_SHARED_GROUP (or the handler's share option, with share: false), or use a broker that supports shared subscriptions.`;

/** The client closed while a publish waited for a slot in the broker's Receive Maximum window. */
export const WINDOW_CLOSED = () =>
  "The MQTT client closed while the publish waited for a free slot in the broker's Receive Maximum window; the message was not sent.";

/** MQTT_PUBLISH_TIMEOUT ran out while the publish waited for a slot of the window. */
export const PUBLISH_WINDOW_TIMEOUT = (topic: string, seconds: number, limit: number) =>
  `Publishing to ${quote(topic)} timed out after ${seconds} s (MQTT_PUBLISH_TIMEOUT) while it waited for one of the ${limit} in-flight slots the broker allows (Receive Maximum in its CONNACK); it was not sent. Check that the broker acknowledges publishes, or raise MQTT_PUBLISH_TIMEOUT.`;

/** A publish stopped waiting for a slot in the window (its signal aborted, e.g. a timeout). */
export const WINDOW_WAIT_ABORTED = (limit: number) =>
  `The publish was abandoned while it waited for one of the ${limit} in-flight slots the broker allows (Receive Maximum in its CONNACK); the message was not sent.`;

/**
 * The broker refused an MQTT 5 CONNECT (NATS answers with the 3.1.1 code 1) or closed the
 * connection without a CONNACK (RabbitMQ 3.x): it does not speak MQTT 5.
 */
export const MQTT5_REFUSED = (broker: string) =>
  `The broker at ${broker} refused the MQTT 5 CONNECT (unacceptable protocol version, or the connection closed without CONNACK): it does not support MQTT 5. Set MQTT_PROTOCOL_VERSION=MQTTv311.`;

/** A publish above MQTT_MAX_QOS. */
export const QOS_ABOVE_MAX = (topic: string, qos: number, max: number) =>
  `Cannot publish to "${topic}" with QoS ${qos}: the broker supports QoS ${max} at most (MQTT_MAX_QOS=${max}). Publish with QoS ${max} or lower, or raise MQTT_MAX_QOS if the broker supports it.`;

/** Shared subscriptions accepted by the broker but delivering nothing (MQTT_PROBE_SHARED). */
export const SHARED_UNSUPPORTED = (broker: string, groups: string[], waitedMs: number) =>
  `The broker at ${broker} accepts shared subscriptions ($share/...) but delivered nothing through one within ${waitedMs} ms: it does not support them, so handlers in group ${groups.map((g) => `"${g}"`).join(', ')} would receive no message. Unset MQTT_SHARED_GROUP (and the handlers' \`share\`) and run one replica, or use a broker with shared subscriptions (Mosquitto, EMQX, HiveMQ, VerneMQ).`;

/** The probe's own SUBSCRIBE or PUBLISH failed. */
export const SHARED_PROBE_FAILED = (broker: string, reason: string) =>
  `Could not check shared subscriptions on the broker at ${broker} (MQTT_PROBE_SHARED): ${reason}. Check the broker's ACLs for the topic nestjs-mqtt/probe/#, or unset MQTT_PROBE_SHARED.`;

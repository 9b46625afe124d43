/**
 * What a broker lacks, said clearly: the texts for a protocol version refused at CONNECT, a QoS
 * above what the broker supports and shared subscriptions that deliver nothing, and the broker
 * in use for logs and events.
 */
import type { MqttClient } from 'mqtt';

/** `host:port` of the broker the client is connected (or connecting) to now. */
export function currentBroker(client: MqttClient): string {
  const { host, hostname, port } = client.options;
  const name = hostname ?? host ?? 'localhost';
  return `${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${port}`;
}

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

/** The broker the client is connected (or connecting) to now, for logs, events and errors. */
import type { MqttClient } from 'mqtt';

/** `host:port` of the broker the client is connected (or connecting) to now. */
export function currentBroker(client: MqttClient): string {
  const { host, hostname, port } = client.options;
  const name = hostname ?? host ?? 'localhost';
  return `${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${port}`;
}

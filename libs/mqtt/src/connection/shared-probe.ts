import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { MqttSubscribeError } from '../errors/mqtt-subscribe.error';
import { SHARED_PROBE_FAILED, SHARED_UNSUPPORTED } from './connection.messages';
import { currentBroker } from './current-broker';

/** How long the probe waits for its own message. */
export const SHARED_PROBE_WAIT_MS = 1000;

/** The `$share/<group>/` groups among subscription filters. */
export function sharedGroups(filters: readonly string[]): string[] {
  const groups = new Set<string>();
  for (const filter of filters) {
    const match = /^\$share\/([^/]+)\//.exec(filter);
    if (match) groups.add(match[1]);
  }
  return [...groups];
}

/**
 * MQTT_PROBE_SHARED: proves that the broker delivers through shared subscriptions, which an MQTT
 * 3.1.1 CONNACK cannot say (NATS and RabbitMQ 3.x grant `$share/...` and deliver nothing).
 * Subscribes `$share/<group>/nestjs-mqtt/probe/<random>` at QoS 1, publishes one message to the
 * topic, and rejects with an `MqttSubscribeError` naming the groups when nothing arrives within
 * `waitMs`. The probe subscription is removed in every case. Uses only MQTT.js's public API.
 */
export async function probeSharedSubscriptions(
  client: MqttClient,
  groups: readonly string[],
  waitMs = SHARED_PROBE_WAIT_MS,
): Promise<void> {
  if (groups.length === 0) return;
  const topic = `nestjs-mqtt/probe/${randomBytes(8).toString('hex')}`;
  const filter = `$share/${groups[0]}/${topic}`;
  const broker = currentBroker(client);
  let onMessage: ((t: string) => void) | undefined;
  const arrived = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    onMessage = (t: string) => {
      if (t !== topic) return;
      clearTimeout(timer);
      resolve(true);
    };
    client.on('message', onMessage);
  });
  try {
    try {
      const granted = await client.subscribeAsync(filter, { qos: 1 });
      if (granted.some((g) => g.qos >= 0x80)) return refused(broker, groups, waitMs);
      await client.publishAsync(topic, 'probe', { qos: 1 });
    } catch (error) {
      throw new MqttSubscribeError(SHARED_PROBE_FAILED(broker, (error as Error).message), {
        cause: error,
      });
    }
    if (!(await arrived)) refused(broker, groups, waitMs);
  } finally {
    if (onMessage) client.off('message', onMessage);
    await client.unsubscribeAsync(filter).catch(() => undefined);
  }
}

function refused(broker: string, groups: readonly string[], waitMs: number): never {
  throw new MqttSubscribeError(SHARED_UNSUPPORTED(broker, [...groups], waitMs));
}

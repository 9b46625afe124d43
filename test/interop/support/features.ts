/**
 * What a broker supports, measured with plain MQTT.js clients (not the module): MQTT 5 at
 * CONNECT, QoS 2 end to end, retained messages, shared subscriptions. The rows of the support
 * table are these measurements.
 */
import { connectAsync, type MqttClient } from 'mqtt';

import { closeClient, connectClient } from '../../support/clients';
import { uid } from '../../support/ids';
import { delay } from '../../support/wait';

/** One measured capability: `ok` and what was seen, in a few words. */
export interface Measured {
  readonly ok: boolean;
  readonly detail: string;
}

/** The capabilities {@link measureFeatures} measures. */
export interface BrokerFeatures {
  readonly mqtt5: Measured;
  readonly qos2: Measured;
  readonly retained: Measured;
  readonly shared: Measured;
}

/** MQTT 5 CONNECT: CONNACK, or how the broker refused. */
export async function measureMqtt5(url: string): Promise<Measured> {
  try {
    const client = await connectClient(url, { protocolVersion: 5, connectTimeout: 3000 });
    await closeClient(client);
    return { ok: true, detail: 'CONNACK' };
  } catch (error) {
    const text = (error as Error).message;
    const closed = /close|ended|ECONNRESET|Couldn't connect/i.test(text);
    const code = (error as { code?: unknown }).code;
    if (closed) return { ok: false, detail: 'connection closed without CONNACK' };
    return { ok: false, detail: code === 1 ? 'CONNACK 1: unacceptable protocol version' : text };
  }
}

/** QoS 2 publish (PUBREC/PUBCOMP) and delivery at QoS 2 to a QoS 2 subscriber. */
export async function measureQos2(url: string): Promise<Measured> {
  const topic = `interop/${uid('qos2')}`;
  const subscriber = await connectClient(url);
  const publisher = await connectClient(url);
  try {
    const [grant] = await subscriber.subscribeAsync(topic, { qos: 2 });
    const received = new Promise<number>((resolve) =>
      subscriber.once('message', (_t, _p, packet) => resolve(packet.qos)),
    );
    const closed = new Promise<'closed'>((resolve) =>
      publisher.once('close', () => resolve('closed')),
    );
    const outcome = await Promise.race([
      publisher.publishAsync(topic, 'x', { qos: 2 }).then(() => 'acknowledged' as const),
      closed,
      delay(3000).then(() => 'no answer' as const),
    ]).catch((error: Error) => error.message);
    if (outcome !== 'acknowledged') {
      return {
        ok: false,
        detail: `QoS 2 PUBLISH: ${outcome === 'closed' ? 'connection closed' : outcome}; SUBSCRIBE QoS 2 granted ${grant.qos}`,
      };
    }
    const qos = await Promise.race([received, delay(3000).then(() => -1)]);
    return qos === 2 && grant.qos === 2
      ? { ok: true, detail: 'granted and delivered at QoS 2' }
      : { ok: false, detail: `SUBSCRIBE QoS 2 granted ${grant.qos}, delivered at QoS ${qos}` };
  } finally {
    await closeClient(subscriber);
    await closeClient(publisher);
  }
}

/** A retained message reaches a subscriber that comes later. */
export async function measureRetained(url: string): Promise<Measured> {
  const topic = `interop/${uid('retained')}`;
  const publisher = await connectClient(url);
  await publisher.publishAsync(topic, 'kept', { qos: 1, retain: true });
  await closeClient(publisher);
  const late = await connectClient(url);
  try {
    const got = new Promise<boolean>((resolve) =>
      late.once('message', (_t, _p, packet) => resolve(packet.retain)),
    );
    await late.subscribeAsync(topic, { qos: 1 });
    const retained = await Promise.race([got, delay(2000).then(() => undefined)]);
    await late.publishAsync(topic, '', { qos: 1, retain: true }); // clear it
    return retained
      ? { ok: true, detail: 'delivered to a later subscriber' }
      : { ok: false, detail: 'a later subscriber got nothing' };
  } finally {
    await closeClient(late);
  }
}

/**
 * Three `$share/<group>/` subscribers (each on one of `urls`, round robin) and 30 QoS 1
 * messages: each once in all is shared; none is "accepted, delivers nothing".
 */
export async function measureShared(urls: readonly string[]): Promise<Measured> {
  const topic = `interop/${uid('shared')}`;
  const filter = `$share/${uid('g')}/${topic}`;
  const clients: MqttClient[] = [];
  const seen: string[] = [];
  try {
    const grants: number[] = [];
    for (let i = 0; i < 3; i++) {
      const client = await connectClient(urls[i % urls.length]);
      clients.push(client);
      client.on('message', (_t, payload) => seen.push(payload.toString()));
      grants.push(...(await client.subscribeAsync(filter, { qos: 1 })).map((g) => g.qos));
    }
    if (grants.some((g) => g >= 0x80))
      return { ok: false, detail: `refused (SUBACK ${grants.join(', ')})` };
    const publisher = await connectAsync(urls[0], { reconnectPeriod: 0 });
    for (let i = 0; i < 30; i++) await publisher.publishAsync(topic, String(i), { qos: 1 });
    await closeClient(publisher);
    await delay(1000);
    const distinct = new Set(seen).size;
    if (seen.length === 0) return { ok: false, detail: 'accepted, delivers nothing' };
    if (seen.length === 30 && distinct === 30) return { ok: true, detail: 'each message once' };
    return {
      ok: false,
      detail: `${seen.length} deliveries of ${distinct} distinct for 30 messages`,
    };
  } finally {
    await Promise.all(clients.map((c) => closeClient(c)));
  }
}

/** Every measurement; `urls` are the nodes (shared subscribers are spread over them). */
export async function measureFeatures(urls: readonly string[]): Promise<BrokerFeatures> {
  return {
    mqtt5: await measureMqtt5(urls[0]),
    qos2: await measureQos2(urls[0]),
    retained: await measureRetained(urls[0]),
    shared: await measureShared(urls),
  };
}

/**
 * The load generator: an MQTT.js client (MQTT 3.1.1) in its own process that publishes N
 * messages as fast as it can. `publish {topic, n, qos, topics}` resolves once the broker has
 * taken every message in: QoS 1 messages are acknowledged one by one, and a final QoS 1 "fence"
 * publish is acknowledged only after the broker handled every earlier packet of this connection
 * (QoS 0 included).
 *
 * QoS 0 messages are encoded here and written to the client's socket in large chunks (whole
 * packets, between MQTT.js's own writes), so the load generator is much faster than any receiver
 * and keeps the benchmark short; QoS 1 messages go through `publishAsync` (their PUBACKs belong to
 * MQTT.js).
 */
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { connectAsync } from 'mqtt';
import { PAYLOAD } from '../src/shared';
import { env, ready, run, serve } from './ipc';

/** QoS 1 messages awaiting their PUBACK at once. */
const WINDOW = 1000;
/** QoS 0 packets per socket write. */
const CHUNK = 1000;

/** An MQTT 3.1.1 PUBLISH packet, QoS 0, no retain. */
function publishPacket(topic: string, payload: Buffer): Buffer {
  const name = Buffer.from(topic, 'utf8');
  const length: number[] = [];
  let remaining = 2 + name.length + payload.length;
  do {
    let byte = remaining % 128;
    remaining = Math.floor(remaining / 128);
    if (remaining > 0) byte |= 0x80;
    length.push(byte);
  } while (remaining > 0);
  return Buffer.concat([
    Buffer.from([0x30, ...length, name.length >> 8, name.length & 0xff]),
    name,
    payload,
  ]);
}

run(async () => {
  const client = await connectAsync(env('BENCH_URL'), {
    clientId: env('BENCH_CLIENT_ID'),
    reconnectPeriod: 0,
  });
  const fence = env('BENCH_FENCE');

  /**
   * Publishes n messages to `topic`; a `{i}` in it is replaced by the message number modulo
   * `topics` (distinct topics, e.g. many devices).
   */
  async function publish(
    topic: string,
    n: number,
    qos: 0 | 1,
    topics: number,
  ): Promise<{ elapsedMs: number }> {
    const [head, tail] = topic.split('{i}');
    const topicOf =
      tail === undefined
        ? (): string => topic
        : (i: number): string => `${head}${i % topics}${tail}`;
    const t0 = performance.now();
    if (qos === 0) {
      const socket = client.stream as Socket;
      const single = tail === undefined ? publishPacket(topic, PAYLOAD) : undefined;
      for (let start = 0; start < n; start += CHUNK) {
        const packets: Buffer[] = [];
        for (let i = start; i < Math.min(n, start + CHUNK); i++) {
          packets.push(single ?? publishPacket(topicOf(i), PAYLOAD));
        }
        if (!socket.write(Buffer.concat(packets))) await once(socket, 'drain');
      }
    } else {
      await new Promise<void>((resolve, reject) => {
        let started = 0;
        let done = 0;
        const next = (): void => {
          while (started < n && started - done < WINDOW) {
            client.publishAsync(topicOf(started), PAYLOAD, { qos: 1 }).then(settled, reject);
            started++;
          }
        };
        const settled = (): void => {
          done++;
          if (done === n) resolve();
          else next();
        };
        if (n === 0) resolve();
        else next();
      });
    }
    await client.publishAsync(fence, '', { qos: 1 });
    return { elapsedMs: performance.now() - t0 };
  }

  serve(
    {
      publish: (req) =>
        publish(
          String(req.topic),
          Number(req.n),
          Number(req.qos) as 0 | 1,
          Number(req.topics ?? 1),
        ),
    },
    async () => {
      await client.endAsync();
    },
  );
  ready();
});

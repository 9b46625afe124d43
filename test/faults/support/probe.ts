/**
 * A latency probe for "nothing stalled": a client of its own publishes a QoS 1 message on a
 * probe topic every `everyMs` (payload: sequence number and send time), the app's probe
 * handler records when each arrived, and the figures say whether the app kept handling that
 * topic throughout a fault, and how late.
 */
import type { MqttClient } from 'mqtt';

import { closeClient, connectClient, until } from '../../support';

/** What a probe run measured. */
export interface ProbeFigures {
  readonly sent: number;
  readonly handled: number;
  /** Longest publish-to-handler time, ms. */
  readonly maxMs: number;
  /** Median publish-to-handler time, ms. */
  readonly p50Ms: number;
}

/** The app side: give `record` the payload of each probe message the handler gets. */
export class ProbeLog {
  readonly latencies = new Map<number, number>();

  record(payload: string): void {
    const [n, sentAt] = payload.split(' ').map(Number);
    if (!this.latencies.has(n)) this.latencies.set(n, Date.now() - sentAt);
  }
}

/** The publishing side, started by {@link startProbe}. */
export interface Probe {
  /** Stops publishing, waits (bounded) for the last probes, and returns the figures. */
  stop(): Promise<ProbeFigures>;
}

/** Publishes a probe on `topic` every `everyMs` until `stop()`; `log` is the app's ProbeLog. */
export async function startProbe(
  url: string,
  topic: string,
  log: ProbeLog,
  everyMs = 50,
): Promise<Probe> {
  const client: MqttClient = await connectClient(url);
  log.latencies.clear();
  let sent = 0;
  const timer = setInterval(() => {
    client.publish(topic, `${sent++} ${Date.now()}`, { qos: 1 });
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await until('the last probes to be handled', () => log.latencies.size >= sent, 5000).catch(
        () => undefined, // the figures tell how many were not
      );
      await closeClient(client);
      const sorted = [...log.latencies.values()].sort((a, b) => a - b);
      // A probe never handled counts as late as the whole run.
      const maxMs = log.latencies.size < sent ? Infinity : (sorted[sorted.length - 1] ?? 0);
      return {
        sent,
        handled: log.latencies.size,
        maxMs,
        p50Ms: sorted[Math.floor(sorted.length / 2)] ?? 0,
      };
    },
  };
}

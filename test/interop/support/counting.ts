/**
 * Jepsen-style counting for the interop suites: numbered QoS 1 messages go in, a sink records
 * which numbers came out; lost and duplicated are counted by distinct sequence number.
 */
import { Injectable, type Type } from '@nestjs/common';
import type { MqttClient } from 'mqtt';
import { Subscribe } from 'nestjs-mqtt';

/** What arrived of `0 .. published-1`. */
export interface Tally {
  readonly published: number;
  /** Deliveries in all, duplicates included. */
  readonly deliveries: number;
  /** Numbers never delivered. */
  readonly lost: number[];
  /** Deliveries beyond the first of each number. */
  readonly duplicates: number;
}

/** Records the sequence numbers delivered (payload: the number as text). */
export class SequenceSink {
  readonly counts = new Map<number, number>();
  deliveries = 0;

  record(payload: Buffer | string): void {
    const seq = Number(payload.toString());
    this.deliveries++;
    this.counts.set(seq, (this.counts.get(seq) ?? 0) + 1);
  }

  get distinct(): number {
    return this.counts.size;
  }

  /** Counts over the acknowledged numbers (`0 .. n-1` when a number is given). */
  tally(published: number | ReadonlySet<number>): Tally {
    const numbers =
      typeof published === 'number'
        ? Array.from({ length: published }, (_, i) => i)
        : [...published];
    const lost = numbers.filter((seq) => !this.counts.has(seq)).sort((a, b) => a - b);
    return {
      published: numbers.length,
      deliveries: this.deliveries,
      lost,
      duplicates: this.deliveries - this.distinct,
    };
  }
}

/**
 * A provider class whose `@Subscribe(filter, { qos: 1 })` handler records into `sink`: the class
 * is made per call because a decorator's filter is fixed when the class is defined.
 */
export function sequenceHandler(filter: string, sink: SequenceSink): Type {
  @Injectable()
  class SequenceHandler {
    @Subscribe(filter, { qos: 1 })
    onMessage(payload: Buffer): void {
      sink.record(payload);
    }
  }
  return SequenceHandler;
}

/**
 * Publishes `0 .. count-1` as QoS 1 on `topic`, at most `window` unacknowledged at a time, and
 * calls `onProgress()` after each PUBACK. Resolves with the numbers the broker acknowledged, once
 * all were, or at `deadline` (epoch ms) with those acknowledged so far (a broker may stall while
 * a cluster recovers). Only acknowledged numbers count as published.
 */
export async function publishSequence(
  client: MqttClient,
  topic: string,
  count: number,
  options: { window?: number; deadline?: number; onProgress?: () => void } = {},
): Promise<Set<number>> {
  const acknowledged = new Set<number>();
  let next = 0;
  const worker = async () => {
    while (next < count && Date.now() < (options.deadline ?? Infinity)) {
      const seq = next++;
      await client.publishAsync(topic, String(seq), { qos: 1 });
      acknowledged.add(seq);
      options.onProgress?.();
    }
  };
  const all = Promise.all(Array.from({ length: options.window ?? 20 }, worker));
  if (options.deadline === undefined) {
    await all;
  } else {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, options.deadline! - Date.now()));
    });
    await Promise.race([all, late]);
    clearTimeout(timer);
    all.catch(() => undefined);
  }
  return new Set(acknowledged);
}

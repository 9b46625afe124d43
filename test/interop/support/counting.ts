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

  tally(published: number): Tally {
    const lost: number[] = [];
    for (let seq = 0; seq < published; seq++) if (!this.counts.has(seq)) lost.push(seq);
    return {
      published,
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
 * calls `onProgress(sent)` after each PUBACK. Resolves once all were acknowledged.
 */
export async function publishSequence(
  client: MqttClient,
  topic: string,
  count: number,
  window = 20,
  onProgress?: (acknowledged: number) => void,
): Promise<void> {
  let next = 0;
  let acknowledged = 0;
  const worker = async () => {
    while (next < count) {
      const seq = next++;
      await client.publishAsync(topic, String(seq), { qos: 1 });
      acknowledged++;
      onProgress?.(acknowledged);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
}

/**
 * The handlers of the failing-handler fault test: for QoS 0 and QoS 1, one that throws, one
 * that rejects and one that never settles, each recording the sequence numbers it was called
 * with; and a probe handler on another topic that must keep working throughout.
 */
import { Injectable } from '@nestjs/common';
import { Payload, Subscribe } from 'nestjs-mqtt';

import { ProbeLog } from './probe';
import { Tally, sequenceOf } from './tally';

/** How a failing handler fails. */
export type FailureKind = 'throw' | 'reject' | 'hang';

/** Calls a never-settling handler may have at once (the broker's in-flight window is as big). */
export const HANG_CONCURRENCY = 1000;
export const PROBE_TOPIC = 'fail/probe';

/** The topic of the handler that fails in `kind` way at `qos`. */
export const failTopic = (qos: 0 | 1, kind: FailureKind): string => `fail/q${qos}/${kind}`;

@Injectable()
export class FailingHandlers {
  /** Every call of a failing handler, by QoS (all kinds together). */
  readonly calls = { 0: new Tally(), 1: new Tally() };
  /** Calls per QoS and kind. */
  readonly byKind: Record<string, Tally> = {};
  readonly probes = new ProbeLog();

  private record(qos: 0 | 1, kind: FailureKind, text: string): void {
    const n = sequenceOf(text);
    this.calls[qos].record(n);
    (this.byKind[`${qos}/${kind}`] ??= new Tally()).record(n);
  }

  @Subscribe(failTopic(0, 'throw'), { qos: 0 })
  throw0(@Payload() text: string): void {
    this.record(0, 'throw', text);
    throw new Error(`thrown on purpose (${text})`);
  }

  @Subscribe(failTopic(0, 'reject'), { qos: 0 })
  async reject0(@Payload() text: string): Promise<void> {
    this.record(0, 'reject', text);
    await Promise.resolve();
    throw new Error(`rejected on purpose (${text})`);
  }

  @Subscribe(failTopic(0, 'hang'), { qos: 0, concurrency: HANG_CONCURRENCY })
  hang0(@Payload() text: string): Promise<never> {
    this.record(0, 'hang', text);
    return new Promise<never>(() => undefined);
  }

  @Subscribe(failTopic(1, 'throw'), { qos: 1 })
  throw1(@Payload() text: string): void {
    this.record(1, 'throw', text);
    throw new Error(`thrown on purpose (${text})`);
  }

  @Subscribe(failTopic(1, 'reject'), { qos: 1 })
  async reject1(@Payload() text: string): Promise<void> {
    this.record(1, 'reject', text);
    await Promise.resolve();
    throw new Error(`rejected on purpose (${text})`);
  }

  @Subscribe(failTopic(1, 'hang'), { qos: 1, concurrency: HANG_CONCURRENCY })
  hang1(@Payload() text: string): Promise<never> {
    this.record(1, 'hang', text);
    return new Promise<never>(() => undefined);
  }

  @Subscribe(PROBE_TOPIC, { qos: 1 })
  probe(@Payload() text: string): void {
    this.probes.record(text);
  }
}

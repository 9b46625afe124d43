import { performance } from 'node:perf_hooks';
import type { MqttRoute, RoutedHandler } from '../routing/mqtt.router';
import type { MqttTracing } from '../tracing/mqtt-tracing';
import type { MqttOutcome } from './mqtt.dispatcher';

/** The start time of a call whose duration nobody asked for. */
const NOT_TIMED = -1;

/** A message that shutdown left unstarted. */
export const ABANDONED = Symbol('nestjs-mqtt:abandoned');

/** Counters of one handler, as `MqttService.stats()` reports them. */
export interface MqttHandlerStats {
  /** `Class.method` or `subscribe("filter")`. */
  readonly name: string;
  readonly filters: readonly string[];
  /** Calls that settled without error. */
  readonly handled: number;
  /** Calls that threw or rejected. */
  readonly failed: number;
  /** Calls that did not settle within their timeout (counted as failed too). */
  readonly timedOut: number;
  /** QoS 0 messages dropped because this handler's queue was full. */
  readonly dropped: number;
  /** Calls running now. */
  readonly running: number;
  /** Messages waiting for this handler now. */
  readonly queued: number;
}

type Settle = (outcome: MqttOutcome | typeof ABANDONED | undefined) => void;

interface Job {
  readonly route: MqttRoute;
  readonly reportAll: boolean;
  readonly settle: Settle;
}

/**
 * One handler's queue and concurrency. A call that has not settled within the timeout counts
 * as failed and frees its slot, so one stuck call holds up at most its own handler, and only for
 * that long.
 */
export class HandlerLane {
  active = 0;
  private readonly waiting: Job[] = [];
  /** QoS 0 messages among `waiting`: only they count against the QoS 0 limit. */
  private qos0Waiting = 0;
  private handled = 0;
  private failed = 0;
  private timedOut = 0;
  private dropped = 0;
  private idleWaiters: Array<() => void> = [];
  private pumping = false;

  constructor(
    private readonly handler: RoutedHandler,
    private readonly limits: { timeout: number; qos0QueueLimit: number; tracing?: MqttTracing },
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  /** Whether nothing runs or waits here. */
  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }

  /**
   * Runs the message now, or queues it. Returns its outcome when it settled at once (undefined:
   * handled, nothing to report), else a promise of it.
   */
  take(
    route: MqttRoute,
    reportAll: boolean,
  ): MqttOutcome | Promise<MqttOutcome | typeof ABANDONED | undefined> | undefined {
    if (this.active < this.handler.concurrency && this.waiting.length === 0) {
      return this.run(route, reportAll);
    }
    const qos0 = route.message.packet.qos === 0;
    if (qos0 && this.qos0Waiting >= this.limits.qos0QueueLimit) {
      this.dropped++;
      return { route, kind: 'dropped', durationMs: 0 };
    }
    if (qos0) this.qos0Waiting++;
    const queued = new Promise<MqttOutcome | typeof ABANDONED | undefined>((settle) =>
      this.waiting.push({ route, reportAll, settle }),
    );
    if (this.active < this.handler.concurrency) this.pump();
    return queued;
  }

  /** Settles every queued message as abandoned (shutdown). */
  abandonQueued(): void {
    this.qos0Waiting = 0;
    for (const job of this.waiting.splice(0)) job.settle(ABANDONED);
  }

  /** Resolves once no call of this handler runs. */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stats(): MqttHandlerStats {
    return {
      name: this.handler.name,
      filters: this.handler.filters,
      handled: this.handled,
      failed: this.failed,
      timedOut: this.timedOut,
      dropped: this.dropped,
      running: this.active,
      queued: this.waiting.length,
    };
  }

  /**
   * Starts queued messages while there is a free slot. A loop, not recursion: a long queue of
   * calls that settle at once must not grow the stack.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.active < this.handler.concurrency && this.waiting.length > 0) {
        const job = this.waiting.shift()!;
        if (job.route.message.packet.qos === 0) this.qos0Waiting--;
        const settled = this.run(job.route, job.reportAll);
        if (settled !== undefined && 'then' in settled) settled.then(job.settle, job.settle);
        else job.settle(settled);
      }
    } finally {
      this.pumping = false;
    }
    if (this.active === 0 && this.idleWaiters.length > 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private run(
    route: MqttRoute,
    reportAll: boolean,
  ): MqttOutcome | Promise<MqttOutcome | undefined> | undefined {
    this.active++;
    // Durations are only reported to listeners of events$: no clock read per call otherwise.
    const started = reportAll ? performance.now() : NOT_TIMED;
    let result: unknown;
    try {
      const tracing = this.limits.tracing;
      result =
        tracing === undefined
          ? this.handler.invoke(route.message)
          : tracing.runInExtractedContext(route.message, this.handler);
    } catch (error) {
      return this.finish(this.outcome(route, 'failed', started, undefined, error), true);
    }
    if (!isThenable(result)) {
      const report = reportAll || result !== undefined;
      return this.finish(report ? this.outcome(route, 'handled', started, result) : undefined);
    }
    return new Promise<MqttOutcome | undefined>((resolve) => {
      let done = false;
      const timer =
        this.limits.timeout > 0
          ? setTimeout(() => {
              done = true;
              resolve(this.finish(this.outcome(route, 'timeout', started), true));
              this.pump();
            }, this.limits.timeout)
          : undefined;
      const settle = (kind: 'handled' | 'failed', value?: unknown, error?: unknown) => {
        if (done) return; // it came too late: the timeout already counted it as failed
        done = true;
        clearTimeout(timer);
        const report = kind === 'failed' || reportAll || value !== undefined;
        const outcome = report ? this.outcome(route, kind, started, value, error) : undefined;
        resolve(this.finish(outcome, kind === 'failed'));
        this.pump();
      };
      result.then(
        (value) => settle('handled', value),
        (error: unknown) => settle('failed', undefined, error),
      );
    });
  }

  private outcome(
    route: MqttRoute,
    kind: MqttOutcome['kind'],
    started: number,
    result?: unknown,
    error?: unknown,
  ): MqttOutcome {
    const durationMs =
      kind === 'timeout'
        ? this.limits.timeout
        : started === NOT_TIMED
          ? 0
          : performance.now() - started;
    return { route, kind, result, error, durationMs };
  }

  /** Counts the call and frees its slot (the caller starts the next one). */
  private finish<T extends MqttOutcome | undefined>(outcome: T, failed = false): T {
    this.active--;
    if (!failed) this.handled++;
    else {
      this.failed++;
      if (outcome?.kind === 'timeout') this.timedOut++;
    }
    return outcome;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

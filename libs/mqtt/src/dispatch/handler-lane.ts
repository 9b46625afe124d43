import { performance } from 'node:perf_hooks';
import type { MqttRoute, RoutedHandler } from '../routing/mqtt.router';
import type { MqttOutcome } from './mqtt.dispatcher';

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
  private handled = 0;
  private failed = 0;
  private timedOut = 0;
  private dropped = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly handler: RoutedHandler,
    private readonly limits: { timeout: number; qos0QueueLimit: number },
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs the message now, or queues it. Returns its outcome when it settled at once (undefined:
   * handled, nothing to report), else a promise of it.
   */
  take(
    route: MqttRoute,
    reportAll: boolean,
  ): MqttOutcome | Promise<MqttOutcome | typeof ABANDONED | undefined> | undefined {
    if (this.active < this.handler.concurrency) return this.run(route, reportAll);
    if (route.message.packet.qos === 0 && this.waiting.length >= this.limits.qos0QueueLimit) {
      this.dropped++;
      return { route, kind: 'dropped', durationMs: 0 };
    }
    return new Promise((settle) => this.waiting.push({ route, reportAll, settle }));
  }

  /** Settles every queued message as abandoned (shutdown). */
  abandonQueued(): void {
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

  private run(
    route: MqttRoute,
    reportAll: boolean,
  ): MqttOutcome | Promise<MqttOutcome | undefined> | undefined {
    this.active++;
    const started = performance.now();
    let result: unknown;
    try {
      result = this.handler.invoke(route.message);
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
            }, this.limits.timeout)
          : undefined;
      const settle = (kind: 'handled' | 'failed', value?: unknown, error?: unknown) => {
        if (done) return; // it came too late: the timeout already counted it as failed
        done = true;
        clearTimeout(timer);
        const report = kind === 'failed' || reportAll || value !== undefined;
        const outcome = report ? this.outcome(route, kind, started, value, error) : undefined;
        resolve(this.finish(outcome, kind === 'failed'));
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
    return { route, kind, result, error, durationMs: performance.now() - started };
  }

  /** Counts the call, frees its slot and starts the next queued message. */
  private finish<T extends MqttOutcome | undefined>(outcome: T, failed = false): T {
    this.active--;
    if (!failed) this.handled++;
    else if (outcome?.kind === 'timeout') {
      this.failed++;
      this.timedOut++;
    } else this.failed++;
    const next = this.waiting.shift();
    if (next) {
      const settled = this.run(next.route, next.reportAll);
      if (settled !== undefined && 'then' in settled) settled.then(next.settle, next.settle);
      else next.settle(settled);
    } else if (this.active === 0 && this.idleWaiters.length > 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
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

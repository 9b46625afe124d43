import type { MqttRoute, RoutedHandler } from '../routing/mqtt.router';
import { ABANDONED, HandlerLane, type MqttHandlerStats } from './handler-lane';

export { ABANDONED };

/** What became of one message at one handler, when there is something to report. */
export interface MqttOutcome {
  readonly route: MqttRoute;
  /** `handled`, `failed` (threw or rejected), `timeout`, `dropped` (QoS 0 queue full). */
  readonly kind: 'handled' | 'failed' | 'timeout' | 'dropped';
  /** What the handler returned (its MQTT 5 reply), when handled. */
  readonly result?: unknown;
  /** What it threw or rejected with, when failed. */
  readonly error?: unknown;
  readonly durationMs: number;
}

/**
 * What `dispatch` returns: `undefined` when every handler already finished with nothing to
 * report; the outcomes when all finished synchronously; else a promise of them (it never
 * rejects). `ABANDONED` in the promise's place means shutdown left a message unstarted: its
 * acknowledgement must be withheld so that a persistent session redelivers it.
 */
export type MqttDispatchResult =
  undefined | readonly MqttOutcome[] | Promise<readonly MqttOutcome[] | typeof ABANDONED>;

/** How handlers are run. */
export interface MqttDispatcherOptions {
  /** Milliseconds a handler call may take before it counts as failed; 0: no limit. */
  handlerTimeout: number;
  /** QoS 0 messages that may wait per handler; past it they are dropped. */
  qos0QueueLimit: number;
}

/**
 * Runs handlers: one lane per handler (its own queue and concurrency, so a slow handler holds up
 * only itself), timeouts, and the outcome of each call, returned to the caller rather than
 * called back. Knows nothing of MQTT acknowledgements or the broker.
 */
export class MqttDispatcher {
  private readonly lanes = new Map<RoutedHandler, HandlerLane>();
  private intake = true;
  /** Whether successful outcomes are reported too (someone listens to message events). */
  reportAll = false;

  constructor(private readonly options: MqttDispatcherOptions) {}

  /** Runs (or queues) each route's handler with its message. */
  dispatch(routes: readonly MqttRoute[]): MqttDispatchResult {
    if (!this.intake) return Promise.resolve(ABANDONED);
    let reported: MqttOutcome[] | undefined;
    let pending: Array<Promise<MqttOutcome | typeof ABANDONED | undefined>> | undefined;
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i];
      const outcome = this.lane(route.handler).take(route, this.reportAll);
      if (outcome === undefined) continue;
      if ('then' in outcome) (pending ??= []).push(outcome);
      else (reported ??= []).push(outcome);
    }
    if (!pending) return reported;
    const done = reported ?? [];
    return Promise.all(pending).then((outcomes) => {
      for (const outcome of outcomes) {
        if (outcome === ABANDONED) return ABANDONED;
        if (outcome !== undefined) done.push(outcome);
      }
      return done;
    });
  }

  /** Stops starting messages: new ones and queued ones are abandoned (left unacknowledged). */
  stop(): void {
    this.intake = false;
    for (const lane of this.lanes.values()) lane.abandonQueued();
  }

  /** Handler calls running now. */
  get running(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.active;
    return n;
  }

  /** Messages waiting for a busy handler. */
  get queued(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.queued;
    return n;
  }

  /** Resolves true once no handler runs, or false after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<boolean> {
    const busy = [...this.lanes.values()].filter((l) => l.active > 0);
    if (busy.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const idle = Promise.all(busy.map((l) => l.whenIdle())).then(() => true);
    const result = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Counters of every handler that has run. */
  stats(): MqttHandlerStats[] {
    return [...this.lanes.values()].map((lane) => lane.stats());
  }

  /** Forgets a handler that was unregistered (its running calls still finish). */
  forget(handler: RoutedHandler): void {
    this.lanes.delete(handler);
  }

  private lane(handler: RoutedHandler): HandlerLane {
    let lane = this.lanes.get(handler);
    if (!lane) {
      lane = new HandlerLane(handler, {
        timeout: handler.timeout ?? this.options.handlerTimeout,
        qos0QueueLimit: this.options.qos0QueueLimit,
      });
      this.lanes.set(handler, lane);
    }
    return lane;
  }
}

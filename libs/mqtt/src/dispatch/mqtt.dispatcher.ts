import type { MqttRoute, RoutedHandler } from '../routing/mqtt.router';
import type { MqttTracing } from '../tracing/mqtt-tracing';
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
 * What `run` returns for one route: `undefined` when the handler already finished with nothing
 * to report; the outcome when it finished at once; else a promise of it (it never rejects).
 * `ABANDONED` means shutdown left the message unstarted: its acknowledgement must be withheld
 * so that a persistent session redelivers it.
 */
export type MqttRunResult =
  undefined | MqttOutcome | Promise<MqttOutcome | typeof ABANDONED | undefined>;

/** How handlers are run. */
export interface MqttDispatcherOptions {
  /** Milliseconds a handler call may take before it counts as failed; 0: no limit. */
  handlerTimeout: number;
  /** QoS 0 messages that may wait per handler; past it they are dropped. */
  qos0QueueLimit: number;
  /** OpenTelemetry tracing of handler calls (MQTT 5, `@opentelemetry/api` installed). */
  tracing?: MqttTracing;
}

/**
 * Runs handlers: one lane per handler (its own queue and concurrency, so a slow handler holds up
 * only itself), timeouts, and the outcome of each call, returned to the caller rather than
 * called back. Knows nothing of MQTT acknowledgements or the broker.
 */
export class MqttDispatcher {
  private readonly lanes = new Map<RoutedHandler, HandlerLane>();
  /** Lanes of unregistered handlers, kept until their last call settled. */
  private readonly retired = new Set<HandlerLane>();
  /** Counters of retired lanes that finished, so totals never go down. */
  private readonly retiredTotals = { received: 0, dropped: 0 };
  private intake = true;
  /** The lane `lane()` returned last, and its handler. */
  private lastHandler: RoutedHandler | undefined;
  private lastLane: HandlerLane | undefined;

  constructor(private readonly options: MqttDispatcherOptions) {}

  /** Runs (or queues) the route's handler with its message. */
  run(route: MqttRoute, reportAll: boolean): MqttRunResult {
    if (!this.intake) return Promise.resolve(ABANDONED);
    return this.lane(route.handler).take(route, reportAll);
  }

  /** Stops starting messages: new ones and queued ones are abandoned (left unacknowledged). */
  stop(): void {
    this.intake = false;
    for (const lane of this.all()) lane.abandonQueued();
  }

  /** Handler calls running now. */
  get running(): number {
    let n = 0;
    for (const lane of this.all()) n += lane.active;
    return n;
  }

  /** Messages waiting for a busy handler. */
  get queued(): number {
    let n = 0;
    for (const lane of this.all()) n += lane.queued;
    return n;
  }

  /** Resolves true once no handler runs, or false after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<boolean> {
    const busy = [...this.all()].filter((l) => l.active > 0);
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

  /**
   * Counters of each of `handlers` (zeros for one that has not run yet); without `handlers`,
   * of every registered handler that has run.
   */
  stats(handlers?: readonly RoutedHandler[]): MqttHandlerStats[] {
    if (!handlers) return [...this.lanes.values()].map((lane) => lane.stats());
    return handlers.map((h) => this.lane(h).stats());
  }

  /** Totals over every handler that ever ran, unregistered ones included. */
  totals(): { received: number; dropped: number } {
    let received = this.retiredTotals.received;
    let dropped = this.retiredTotals.dropped;
    for (const lane of this.all()) {
      const s = lane.stats();
      received += s.handled + s.failed;
      dropped += s.dropped;
    }
    return { received, dropped };
  }

  /** Forgets an unregistered handler; its running and queued calls still finish. */
  forget(handler: RoutedHandler): void {
    if (handler === this.lastHandler) this.lastHandler = this.lastLane = undefined;
    const lane = this.lanes.get(handler);
    if (!lane) return;
    this.lanes.delete(handler);
    this.retired.add(lane);
    this.sweep();
  }

  private *all(): Iterable<HandlerLane> {
    yield* this.lanes.values();
    yield* this.retired;
  }

  /** Drops retired lanes with nothing left to do, keeping their counts. */
  private sweep(): void {
    for (const lane of this.retired) {
      if (!lane.idle) continue;
      const s = lane.stats();
      this.retiredTotals.received += s.handled + s.failed;
      this.retiredTotals.dropped += s.dropped;
      this.retired.delete(lane);
    }
  }

  private lane(handler: RoutedHandler): HandlerLane {
    // Messages come in runs for one handler: the last lane is checked before the map.
    if (handler === this.lastHandler) return this.lastLane!;
    let lane = this.lanes.get(handler);
    if (!lane) {
      lane = new HandlerLane(handler, {
        timeout: handler.timeout ?? this.options.handlerTimeout,
        qos0QueueLimit: this.options.qos0QueueLimit,
        tracing: this.options.tracing,
      });
      this.lanes.set(handler, lane);
      if (this.retired.size > 0) this.sweep();
    }
    this.lastHandler = handler;
    this.lastLane = lane;
    return lane;
  }
}

import { Injectable } from '@nestjs/common';
import type { IPublishPacket } from 'mqtt';
import { DEFAULT_MAX_QUEUED_MESSAGES } from './mqtt.constants';
import { INVALID_CONCURRENCY, INVALID_FILTER } from './mqtt.messages';
import { MqttSubscribeError } from './errors/mqtt-subscribe.error';
import type { MqttMessage } from './interfaces/mqtt-message.interface';
import type { MqttQos, MqttSubscribeOptions } from './interfaces/subscribe-options.interface';
import { TopicTree } from './utils/topic-tree';
import {
  extractTopicParams,
  parseFilter,
  sharedFilter,
  topicMatches,
  type ParsedFilter,
} from './utils/topic.utils';

/** A handler as the router receives it, from `@Subscribe()` or `MqttService.subscribe()`. */
export interface MqttHandlerDefinition {
  /** Shown in log lines: `Class.method` or `subscribe("filter")`. */
  name: string;
  /**
   * What the handler subscribes to: filters as written (they may hold named wildcards and a
   * `$share/<group>/` prefix), each group with its options. One entry per `@Subscribe()`.
   */
  subscriptions: ReadonlyArray<{ filters: readonly string[]; options: MqttSubscribeOptions }>;
  /** Runs the handler; its return value is the reply (MQTT 5 request/response). */
  invoke: (message: MqttMessage) => unknown;
}

/** One subscription at the broker, shared by every handler with the same filter. */
export interface MqttBrokerSubscription {
  /** The filter sent to the broker (`$share/<group>/...` included). */
  readonly filter: string;
  /** MQTT 5 subscription identifier, used to route each copy of a message exactly. */
  readonly id: number;
  qos: MqttQos;
  nl: boolean;
  rap: boolean;
  rh: 0 | 1 | 2;
  /** QoS the broker granted at the last SUBACK; undefined until then. */
  granted?: number;
  readonly handlers: Set<RoutedHandler>;
}

/** Receives what handlers produce: replies and failures. Set by the service. */
export interface MqttDispatchListener {
  onHandlerResult(handler: RoutedHandler, message: MqttMessage, result: unknown): void;
  /** May return a promise (dead-lettering): the message is settled only after it. */
  onHandlerError(
    handler: RoutedHandler,
    message: MqttMessage,
    error: unknown,
  ): Promise<void> | undefined;
}

interface FilterEntry {
  readonly parsed: ParsedFilter;
  readonly subscription: MqttBrokerSubscription;
}

interface Job {
  readonly message: MqttMessage;
  readonly done?: () => void;
}

/** A registered handler with its own queue, so a slow handler cannot hold up the others. */
export class RoutedHandler {
  active = 0;
  readonly queue: Job[] = [];
  constructor(
    readonly name: string,
    public entries: FilterEntry[],
    readonly concurrency: number,
    readonly invoke: (message: MqttMessage) => unknown,
  ) {}

  /** The filters as written, for `MqttService.topics` and log lines. */
  get filters(): string[] {
    return this.entries.map((e) => e.parsed.raw);
  }
}

const NO_IDS: readonly number[] = [];
/** Topics whose handlers are remembered; past that the cache starts over. */
const MATCH_CACHE_SIZE = 10_000;
/** Lookups over which the cache's hit rate is judged. */
const CACHE_WINDOW = 4096;
/** Windows the cache stays off before it is tried again. */
const CACHE_RETRY_WINDOWS = 16;

/**
 * Owns matching: which handlers a topic goes to, and which broker subscriptions they need.
 * Lookups walk a topic tree, so their cost does not grow with the number of subscriptions.
 */
@Injectable()
export class MqttRouter {
  private readonly tree = new TopicTree<RoutedHandler>();
  /** Lookups of recent topics: devices publish to the same topics over and over. */
  private readonly matchCache = new Map<string, RoutedHandler[]>();
  private readonly cache = { enabled: true, lookups: 0, hits: 0, idleWindows: 0 };
  private readonly last: { topic?: string; handlers?: RoutedHandler[] } = {};
  private readonly subscriptions = new Map<string, MqttBrokerSubscription>();
  private nextId = 1;
  private listener?: MqttDispatchListener;
  private intake = true;
  private queued = 0;
  private running = 0;
  private maxQueued = DEFAULT_MAX_QUEUED_MESSAGES;
  private drainWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  /** Connects the router to whoever reports results and errors (the service). */
  setListener(listener: MqttDispatchListener, maxQueuedMessages?: number): void {
    this.listener = listener;
    if (maxQueuedMessages && maxQueuedMessages > 0) this.maxQueued = maxQueuedMessages;
  }

  /**
   * Adds a handler. Throws `MqttSubscribeError` naming the handler for an invalid filter.
   * Returns the handler and the broker subscriptions that are new or need a higher QoS.
   */
  register(
    definition: MqttHandlerDefinition,
    defaultShare?: string,
  ): { handler: RoutedHandler; changed: MqttBrokerSubscription[] } {
    // Validate everything first: a registration that throws must leave the router untouched.
    let concurrency = 1;
    const planned: Array<{ parsed: ParsedFilter; options: MqttSubscribeOptions }> = [];
    for (const { filters, options } of definition.subscriptions) {
      if (filters.length === 0) {
        throw new MqttSubscribeError(INVALID_FILTER(definition.name, '', 'no filter given'));
      }
      const wanted = options.concurrency ?? 1;
      if (!Number.isInteger(wanted) || wanted < 1) {
        throw new MqttSubscribeError(INVALID_CONCURRENCY(definition.name, wanted));
      }
      concurrency = Math.max(concurrency, wanted);
      const group = options.share === false ? undefined : (options.share ?? defaultShare);
      for (const raw of filters) {
        try {
          let parsed = parseFilter(raw);
          if (group !== undefined && parsed.share === undefined) {
            // Keep the filter as written: `unsubscribe()` and MqttMessage.filter use it.
            parsed = { ...parseFilter(sharedFilter(raw, group)), raw };
          }
          planned.push({ parsed, options });
        } catch (error) {
          throw new MqttSubscribeError(
            INVALID_FILTER(definition.name, raw, (error as Error).message),
          );
        }
      }
    }
    if (planned.length === 0) {
      throw new MqttSubscribeError(INVALID_FILTER(definition.name, '', 'no filter given'));
    }

    const changed: MqttBrokerSubscription[] = [];
    const entries: FilterEntry[] = [];
    for (const { parsed, options } of planned) {
      const qos = options.qos ?? 0;
      let sub = this.subscriptions.get(parsed.filter);
      if (!sub) {
        sub = {
          filter: parsed.filter,
          id: this.nextId++,
          qos,
          nl: options.nl ?? false,
          rap: options.rap ?? false,
          rh: options.rh ?? 0,
          handlers: new Set(),
        };
        this.subscriptions.set(parsed.filter, sub);
        changed.push(sub);
      } else if (qos > sub.qos) {
        sub.qos = qos;
        sub.granted = undefined; // to be subscribed again with the higher QoS
        if (!changed.includes(sub)) changed.push(sub);
      }
      entries.push({ parsed, subscription: sub });
    }
    const handler = new RoutedHandler(definition.name, entries, concurrency, definition.invoke);
    for (const entry of entries) {
      entry.subscription.handlers.add(handler);
      this.tree.add(entry.parsed.matchFilter, handler);
    }
    this.forgetLookups();
    return { handler, changed };
  }

  /** Removes a handler; returns the broker filters nobody needs any more. */
  unregister(handler: RoutedHandler): string[] {
    this.forgetLookups();
    const entries = handler.entries;
    handler.entries = [];
    return this.detach(handler, entries);
  }

  private detach(handler: RoutedHandler, entries: readonly FilterEntry[]): string[] {
    const orphaned: string[] = [];
    for (const { parsed, subscription } of entries) {
      // The tree holds the handler once per match filter: keep it while another entry uses it.
      if (!handler.entries.some((e) => e.parsed.matchFilter === parsed.matchFilter)) {
        this.tree.remove(parsed.matchFilter, handler);
      }
      if (!handler.entries.some((e) => e.subscription === subscription)) {
        subscription.handlers.delete(handler);
      }
      if (subscription.handlers.size === 0 && this.subscriptions.get(subscription.filter)) {
        this.subscriptions.delete(subscription.filter);
        orphaned.push(subscription.filter);
      }
    }
    return orphaned;
  }

  /**
   * Removes `filter` (as written, or as sent with its `$share/<group>/` prefix) from every
   * handler; a handler left with no filter is gone. Returns the broker filters nobody needs.
   */
  removeFilter(filter: string): string[] {
    const orphaned: string[] = [];
    this.forgetLookups();
    for (const sub of [...this.subscriptions.values()]) {
      for (const handler of [...sub.handlers]) {
        const drop = handler.entries.filter(
          (e) => e.subscription === sub && (e.parsed.raw === filter || sub.filter === filter),
        );
        if (drop.length === 0) continue;
        handler.entries = handler.entries.filter((e) => !drop.includes(e));
        orphaned.push(...this.detach(handler, drop));
      }
    }
    return orphaned;
  }

  /** Every handler registered. */
  allHandlers(): RoutedHandler[] {
    const found = new Set<RoutedHandler>();
    for (const sub of this.subscriptions.values()) for (const h of sub.handlers) found.add(h);
    return [...found];
  }

  /** The subscriptions the broker must hold. */
  brokerSubscriptions(): MqttBrokerSubscription[] {
    return [...this.subscriptions.values()];
  }

  /** Whether any handler's queue is full: the caller should stop reading until `whenDrained()`. */
  get saturated(): boolean {
    return this.queued >= this.maxQueued;
  }

  /** Resolves once queued messages fell to half the limit. */
  whenDrained(): Promise<void> {
    if (this.queued <= this.maxQueued / 2) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Messages taken in and not yet finished (running or queued). */
  get inFlight(): number {
    return this.running + this.queued;
  }

  /** Stops taking messages in: `dispatch` then ignores them (they are not acknowledged). */
  stopIntake(): void {
    this.intake = false;
  }

  /** Resolves when no handler runs and no message waits, or after `timeoutMs`; true when idle. */
  async idle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return result;
  }

  /**
   * Routes one message to every matching handler, each once. Returns undefined when nothing
   * needs waiting for, else a promise that settles (never rejects) when every handler settled;
   * `track` asks for that promise (QoS 1/2 acknowledge only after their handlers settle).
   */
  dispatch(packet: IPublishPacket, track: boolean): Promise<void> | undefined {
    if (!this.intake) return track ? new Promise<void>(() => undefined) : undefined;
    const topic = packet.topic;
    const handlers = this.lookup(topic);
    const count = handlers.length;
    if (count === 0) return undefined;
    const ids = subscriptionIds(packet);
    let pending: Promise<void>[] | undefined;
    for (let i = 0; i < count; i++) {
      const handler = handlers[i];
      const entry = this.entryFor(handler, topic, ids);
      if (!entry) continue;
      const message: MqttMessage = {
        topic,
        payload: packet.payload as Buffer,
        packet,
        params: extractTopicParams(entry.parsed, topic),
        filter: entry.parsed.raw,
      };
      if (track) {
        (pending ??= []).push(
          new Promise<void>((done) => this.enqueue(handler, { message, done })),
        );
      } else {
        this.enqueue(handler, { message });
      }
    }
    if (!pending) return undefined;
    return pending.length === 1 ? pending[0] : Promise.all(pending).then(noop);
  }

  private forgetLookups(): void {
    this.matchCache.clear();
    this.last.handlers = undefined;
  }

  /**
   * The handlers of a topic. Devices publish to the same topics over and over, so results are
   * cached; when topics hardly repeat (say 100k devices each on its own topic) the cache only
   * costs, so it is bypassed while its hit rate over a window stays low, and sampled again later.
   */
  private lookup(topic: string): RoutedHandler[] {
    // A stream of one topic (one device, one queue) skips even the map lookup.
    if (topic === this.last.topic && this.last.handlers !== undefined) return this.last.handlers;
    const handlers = this.lookupCached(topic);
    this.last.topic = topic;
    this.last.handlers = handlers;
    return handlers;
  }

  private lookupCached(topic: string): RoutedHandler[] {
    const cache = this.cache;
    let handlers: RoutedHandler[] | undefined;
    if (cache.enabled) {
      handlers = this.matchCache.get(topic);
      if (handlers !== undefined) cache.hits++;
    }
    if (handlers === undefined) {
      handlers = this.tree.match(topic);
      if (cache.enabled) {
        if (this.matchCache.size >= MATCH_CACHE_SIZE) this.matchCache.clear();
        this.matchCache.set(topic, handlers);
      }
    }
    if (++cache.lookups === CACHE_WINDOW) {
      if (cache.enabled) {
        cache.enabled = cache.hits * 2 >= CACHE_WINDOW;
        if (!cache.enabled) this.matchCache.clear();
        cache.idleWindows = 0;
      } else if (++cache.idleWindows >= CACHE_RETRY_WINDOWS) {
        cache.enabled = true;
      }
      cache.lookups = 0;
      cache.hits = 0;
    }
    return handlers;
  }

  /**
   * The filter entry of `handler` that this copy of the message is for. With MQTT 5
   * subscription identifiers the broker sends one copy per subscription, so a handler runs only
   * on the copy of its lowest-numbered matching subscription: once per message.
   */
  private entryFor(
    handler: RoutedHandler,
    topic: string,
    ids: readonly number[],
  ): FilterEntry | undefined {
    const entries = handler.entries;
    if (entries.length === 1 && ids.length === 0) return entries[0];
    let best: FilterEntry | undefined;
    for (const entry of entries) {
      if (entries.length > 1 && !topicMatches(entry.parsed.matchFilter, topic)) continue;
      // A refused subscription brings no copy: never wait for one.
      if ((entry.subscription.granted ?? 0) >= 0x80 && entries.length > 1) continue;
      if (!best || entry.subscription.id < best.subscription.id) best = entry;
    }
    if (best && ids.length > 0 && !ids.includes(best.subscription.id)) return undefined;
    return best;
  }

  private enqueue(handler: RoutedHandler, job: Job): void {
    if (handler.active < handler.concurrency) {
      this.run(handler, job);
    } else {
      handler.queue.push(job);
      this.queued++;
    }
  }

  private run(handler: RoutedHandler, job: Job): void {
    handler.active++;
    this.running++;
    let result: unknown;
    try {
      result = handler.invoke(job.message);
    } catch (error) {
      this.failed(handler, job, error);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => {
          if (value !== undefined) this.listener?.onHandlerResult(handler, job.message, value);
          this.finish(handler, job);
        },
        (error) => this.failed(handler, job, error),
      );
    } else {
      if (result !== undefined) this.listener?.onHandlerResult(handler, job.message, result);
      this.finish(handler, job);
    }
  }

  private failed(handler: RoutedHandler, job: Job, error: unknown): void {
    const after = this.listener?.onHandlerError(handler, job.message, error);
    if (after) {
      after.then(
        () => this.finish(handler, job),
        () => this.finish(handler, job),
      );
    } else {
      this.finish(handler, job);
    }
  }

  private finish(handler: RoutedHandler, job: Job): void {
    handler.active--;
    this.running--;
    job.done?.();
    const next = handler.queue.shift();
    if (next) {
      this.queued--;
      if (this.drainWaiters.length > 0 && this.queued <= this.maxQueued / 2) {
        const waiters = this.drainWaiters;
        this.drainWaiters = [];
        for (const w of waiters) w();
      }
      this.run(handler, next);
    } else if (this.running === 0 && this.queued === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}

function noop(): void {}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

function subscriptionIds(packet: IPublishPacket): readonly number[] {
  const id = packet.properties?.subscriptionIdentifier;
  if (id === undefined) return NO_IDS;
  return Array.isArray(id) ? id : [id];
}

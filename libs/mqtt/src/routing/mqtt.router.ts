import type { IPublishPacket } from 'mqtt';
import { MqttSubscribeError } from '../errors/mqtt-subscribe.error';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import type { MqttQos, MqttSubscribeOptions } from '../interfaces/subscribe-options.interface';
import { INVALID_CONCURRENCY, INVALID_FILTER, INVALID_TIMEOUT } from '../mqtt.messages';
import { TopicCache } from './topic-cache';
import { TopicTree } from './topic-tree';
import { RoutedMessage } from './routed-message';
import {
  filterErrorReason,
  parseFilter,
  sharedFilter,
  topicMatches,
  type ParsedFilter,
} from './topic.utils';

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
  /** Reason code of the last SUBACK (the granted QoS, or >= 0x80 refused); undefined until then. */
  granted?: number;
  readonly handlers: Set<RoutedHandler>;
}

interface FilterEntry {
  readonly parsed: ParsedFilter;
  readonly subscription: MqttBrokerSubscription;
}

/** A registered handler: what it listens to and how it wants to be run. */
export class RoutedHandler {
  constructor(
    readonly name: string,
    public entries: FilterEntry[],
    /** Messages it works on at once. */
    readonly concurrency: number,
    /** Milliseconds a call may take before it counts as failed; undefined: the module default. */
    readonly timeout: number | undefined,
    /** True: QoS 1/2 messages are acknowledged on receipt, not after the handler. */
    readonly ackOnReceipt: boolean,
    readonly invoke: (message: MqttMessage) => unknown,
  ) {}

  /** The filters as written, for `MqttService.topics` and log lines. */
  get filters(): string[] {
    return this.entries.map((e) => e.parsed.raw);
  }
}

/** One handler that one message goes to. */
export interface MqttRoute {
  readonly handler: RoutedHandler;
  readonly message: RoutedMessage;
}

const NO_IDS: readonly number[] = [];
/** Shared, typed read-only but not frozen: frozen arrays are slower to read on the hot path. */
const NO_ROUTES: readonly MqttRoute[] = [];

/**
 * Owns matching, and nothing else: which handlers a topic goes to, and which broker
 * subscriptions they need. Pure bookkeeping with no I/O, no queues and no callbacks. Lookups
 * walk a topic tree, so their cost does not grow with the number of subscriptions.
 */
export class MqttRouter {
  private readonly tree = new TopicTree<RoutedHandler>();
  private readonly cache = new TopicCache<readonly RoutedHandler[]>((topic) =>
    this.tree.match(topic),
  );
  private readonly subscriptions = new Map<string, MqttBrokerSubscription>();
  private nextId = 1;

  /**
   * Adds a handler. Throws `MqttSubscribeError` naming the handler for an invalid filter or
   * option. Returns the handler and the broker subscriptions that are new or need a higher QoS.
   */
  register(
    definition: MqttHandlerDefinition,
    defaultShare?: string,
  ): { handler: RoutedHandler; changed: MqttBrokerSubscription[] } {
    // Validate everything first: a registration that throws must leave the router untouched.
    const { planned, concurrency, timeout, ackOnReceipt } = plan(definition, defaultShare);
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
    const handler = new RoutedHandler(
      definition.name,
      entries,
      concurrency,
      timeout,
      ackOnReceipt,
      definition.invoke,
    );
    for (const entry of entries) {
      entry.subscription.handlers.add(handler);
      this.tree.add(entry.parsed.matchFilter, handler);
    }
    this.cache.clear();
    return { handler, changed };
  }

  /** Removes a handler; returns the broker filters nobody needs any more. */
  unregister(handler: RoutedHandler): string[] {
    this.cache.clear();
    const entries = handler.entries;
    handler.entries = [];
    return this.detach(handler, entries);
  }

  /**
   * Removes `filter` (as written, or as sent with its `$share/<group>/` prefix) from every
   * handler; a handler left with no filter is gone. Returns the broker filters nobody needs.
   */
  removeFilter(filter: string): string[] {
    const orphaned: string[] = [];
    this.cache.clear();
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

  /** Records the broker's answer (SUBACK reason code) for a subscription. */
  setGranted(filter: string, code: number | undefined): void {
    const sub = this.subscriptions.get(filter);
    if (sub) sub.granted = code;
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

  /**
   * The handlers one received message goes to, each once, with the message as each sees it
   * (the filter that matched and its named wildcards).
   */
  route(packet: IPublishPacket): readonly MqttRoute[] {
    const topic = packet.topic;
    const handlers = this.cache.get(topic);
    const count = handlers.length;
    if (count === 0) return NO_ROUTES;
    const ids = subscriptionIds(packet);
    if (count === 1) {
      // The common case, without growing an empty array.
      const route = routeFor(handlers[0], packet, ids);
      return route ? [route] : NO_ROUTES;
    }
    const routes: MqttRoute[] = [];
    for (let i = 0; i < count; i++) {
      const route = routeFor(handlers[i], packet, ids);
      if (route) routes.push(route);
    }
    return routes;
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
}

/** Checks a definition and parses its filters, without touching any state. */
function plan(definition: MqttHandlerDefinition, defaultShare: string | undefined) {
  let concurrency = 1;
  let timeout: number | undefined;
  let ackOnReceipt = false;
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
    if (options.timeout !== undefined) {
      if (!Number.isFinite(options.timeout) || options.timeout < 0) {
        throw new MqttSubscribeError(INVALID_TIMEOUT(definition.name, options.timeout));
      }
      timeout = Math.max(timeout ?? 0, options.timeout);
    }
    if (options.ack === 'on-receipt') ackOnReceipt = true;
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
          INVALID_FILTER(definition.name, raw, filterErrorReason(error)),
        );
      }
    }
  }
  if (planned.length === 0) {
    throw new MqttSubscribeError(INVALID_FILTER(definition.name, '', 'no filter given'));
  }
  return { planned, concurrency, timeout, ackOnReceipt };
}

/** The message as `handler` sees it, or undefined when the copy is not meant for it. */
function routeFor(
  handler: RoutedHandler,
  packet: IPublishPacket,
  ids: readonly number[],
): MqttRoute | undefined {
  const entry = entryFor(handler, packet.topic, ids);
  return entry && { handler, message: new RoutedMessage(packet.topic, packet, entry.parsed) };
}

/**
 * The filter entry of `handler` that this copy of the message is for. With MQTT 5
 * subscription identifiers the broker sends one copy per subscription, so a handler runs only
 * on the copy of its lowest-numbered matching subscription: once per message.
 */
function entryFor(
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

function subscriptionIds(packet: IPublishPacket): readonly number[] {
  const id = packet.properties?.subscriptionIdentifier;
  if (id === undefined) return NO_IDS;
  return Array.isArray(id) ? id : [id];
}

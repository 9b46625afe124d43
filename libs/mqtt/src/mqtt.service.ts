import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { MqttClient } from 'mqtt';
import type { Observable } from 'rxjs';
import { MqttConnection } from './connection/mqtt-connection';
import { DeadLetters } from './dispatch/dead-letters';
import { MessagePipeline } from './dispatch/message-pipeline';
import { MqttDispatcher } from './dispatch/mqtt.dispatcher';
import { MqttPublishError } from './errors/mqtt-publish.error';
import { MqttSubscribeError } from './errors/mqtt-subscribe.error';
import type { MqttConfig } from './interfaces/mqtt-config.interface';
import type { MqttMessage } from './interfaces/mqtt-message.interface';
import type { MqttModuleOptions } from './interfaces/mqtt-module-options.interface';
import type {
  MqttConnectionState,
  MqttEvent,
  MqttPublishOptions,
  MqttRequestOptions,
  MqttStats,
  MqttStatus,
  MqttSubscription,
} from './interfaces/mqtt-service.interface';
import type { MqttSubscribeOptions } from './interfaces/subscribe-options.interface';
import { MQTT_CONNECTION_CONFIG, MQTT_MODULE_OPTIONS } from './mqtt.constants';
import * as messages from './mqtt.messages';
import { MqttEventBus } from './mqtt-event-bus';
import { MqttRequests } from './reply/mqtt-requests';
import { MqttRouter, type RoutedHandler } from './routing/mqtt.router';
import { topicFilterProblem } from './routing/topic.utils';
import type { MqttPayload } from './utils/payload.utils';

/**
 * The injectable API of one broker connection: publish, subscribe at runtime, request/reply,
 * and what the connection is doing. It wires the parts together (connection, router,
 * dispatcher) and leaves the work to them; `ARCHITECTURE.md` tells who does what.
 */
@Injectable()
export class MqttService
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly connection: MqttConnection;
  private readonly requests: MqttRequests;
  private published = 0;
  private closing = false;

  constructor(
    @Inject(MQTT_CONNECTION_CONFIG) private readonly config: MqttConfig,
    @Inject(MQTT_MODULE_OPTIONS) options: MqttModuleOptions,
    private readonly router: MqttRouter,
    private readonly dispatcher: MqttDispatcher,
    private readonly bus: MqttEventBus,
  ) {
    const publish = this.publish.bind(this);
    const deadLetters = new DeadLetters(config.deadLetterTopic, config.protocolVersion, publish);
    const pipeline = new MessagePipeline(router, dispatcher, bus, deadLetters, publish);
    this.connection = new MqttConnection(
      config,
      options.clientOptions,
      router,
      bus,
      pipeline.handle,
    );
    this.requests = new MqttRequests(this, config.protocolVersion);
  }

  /** The name of this connection (`'default'` unless `forRoot({ name })` says otherwise). */
  get name(): string {
    return this.bus.connectionName;
  }

  /** The underlying MQTT.js client, for what this service does not cover. */
  get client(): MqttClient {
    return this.connection.client;
  }

  /** Whether the client is connected to the broker now. */
  get connected(): boolean {
    return this.connection.connected;
  }

  /** The connection state now. */
  get state(): MqttConnectionState {
    return this.bus.state;
  }

  /** The connection state, now and as it changes. */
  get state$(): Observable<MqttConnectionState> {
    return this.bus.state$;
  }

  /** Connection, subscription, message and log events. */
  get events$(): Observable<MqttEvent> {
    return this.bus.events$;
  }

  /** The client id the broker sees. */
  get clientId(): string {
    return this.connection.client.options.clientId ?? this.config.clientId;
  }

  /** The filters subscribed at the broker (including `$share/<group>/` prefixes). */
  get topics(): string[] {
    return this.router.brokerSubscriptions().map((s) => s.filter);
  }

  /** Where the connection stands: for health checks and dashboards. */
  status(): MqttStatus {
    return { name: this.name, ...this.connection.snapshot() };
  }

  /** Counters: messages published, handled, failed and dropped, per handler. */
  stats(): MqttStats {
    return {
      published: this.published,
      queuedOffline: this.connection.outbound.queuedOffline,
      ...this.dispatcher.totals(),
      handlers: this.dispatcher.stats(this.router.allHandlers()),
    };
  }

  /** Called by Nest: connects at bootstrap and waits for CONNACK and the first SUBACKs. */
  async onApplicationBootstrap(): Promise<void> {
    await this.connection.open();
  }

  /**
   * Called by Nest, first step of `app.close()`: stops starting messages (queued ones stay
   * unacknowledged, so a persistent session redelivers them) and waits, bounded, for the running
   * handlers while the connection is still up for their publishes and acknowledgements.
   */
  async onModuleDestroy(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.dispatcher.stop();
    const running = this.dispatcher.running;
    if (running === 0) return;
    this.bus.log('log', messages.SHUTDOWN_WAIT(running, this.config.shutdownTimeout / 1000));
    if (!(await this.dispatcher.idle(this.config.shutdownTimeout))) {
      this.bus.log('warn', messages.SHUTDOWN_TIMEOUT(this.dispatcher.running));
    }
  }

  /** Called by Nest: then disconnects cleanly (DISCONNECT sent, so the broker drops the will). */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.bus.closed) return;
    await this.onModuleDestroy();
    this.requests.rejectAll(new MqttPublishError(messages.CLIENT_CLOSED()));
    await this.connection.close();
    this.bus.complete();
  }

  /**
   * Publishes a message. Resolves once the broker acknowledged it (QoS 1 and 2) or it was
   * written to the socket (QoS 0); while offline it is queued (up to MQTT_OFFLINE_QUEUE_LIMIT)
   * and sent on reconnect. Rejects with `MqttPublishError` for an invalid topic or payload, a
   * broker limit, a full offline queue, a timeout (MQTT_PUBLISH_TIMEOUT), or a closed client.
   * @param payload Buffer and string as they are; number and boolean as text; null/undefined as
   *   an empty payload; plain objects, arrays and class instances as JSON.
   */
  publish(topic: string, payload?: MqttPayload, options: MqttPublishOptions = {}): Promise<void> {
    this.published++;
    if (this.bus.observed) this.bus.emit({ type: 'publish', topic, qos: options.qos ?? 0 });
    return this.connection.outbound.publish(topic, payload, options);
  }

  /**
   * Subscribes at runtime; `handler` gets `(payload: Buffer, topic, message)` for every matching
   * message, through the same router as `@Subscribe()`. Resolves after the broker's SUBACK when
   * connected; while offline the subscription is kept and sent on (re)connect.
   * Rejects with `MqttSubscribeError` for an invalid filter or a refusal by the broker.
   */
  async subscribe(
    filter: string | readonly string[],
    handler: (payload: Buffer, topic: string, message: MqttMessage) => unknown,
    options: MqttSubscribeOptions = {},
  ): Promise<MqttSubscription> {
    const filters = typeof filter === 'string' ? [filter] : filter;
    const { handler: routed, changed } = this.router.register({
      name: `subscribe(${filters.map((f) => JSON.stringify(f)).join(', ')})`,
      subscriptions: [{ filters, options: { ...options, share: options.share ?? false } }],
      invoke: (message) => handler(message.payload, message.topic, message),
    });
    const subscription: MqttSubscription = {
      filters: routed.filters,
      unsubscribe: () => this.removeHandlers([routed]),
    };
    if (this.connection.connected && changed.length > 0) {
      try {
        await this.connection.subscriptions.subscribe(changed, true);
      } catch (error) {
        await this.removeHandlers([routed]);
        throw error;
      }
    }
    return subscription;
  }

  /**
   * Removes `filter` (as written, or as sent with its `$share/<group>/` prefix) from every
   * handler, runtime and `@Subscribe()`, and sends UNSUBSCRIBE for it, even when this process
   * never subscribed it (to clean up a persistent session left by an older version of the app).
   * Other filters of the same handlers stay.
   */
  unsubscribe(filter: string): Promise<void> {
    const known =
      this.router.brokerSubscriptions().some((s) => s.filter === filter) ||
      this.router.allHandlers().some((h) => h.filters.includes(filter));
    if (known) return this.connection.subscriptions.unsubscribe(this.router.removeFilter(filter));
    const problem = topicFilterProblem(filter);
    if (problem) {
      return Promise.reject(
        new MqttSubscribeError(messages.INVALID_FILTER('unsubscribe()', filter, problem)),
      );
    }
    return this.connection.subscriptions.unsubscribe([filter]);
  }

  /**
   * Removes every handler, runtime and `@Subscribe()`, and unsubscribes from every filter (but
   * the private inbox of `request()`).
   */
  unsubscribeAll(): Promise<void> {
    const inbox = this.requests.inbox;
    return this.removeHandlers(this.router.allHandlers().filter((h) => !h.filters.includes(inbox)));
  }

  /**
   * MQTT 5 request/response: publishes with a response topic and correlation data and resolves
   * with the first reply, or rejects after `timeout` ms (default 5000). Needs MQTT 5.
   */
  request(
    topic: string,
    payload?: MqttPayload,
    options: MqttRequestOptions = {},
  ): Promise<MqttMessage> {
    return this.requests.request(topic, payload, options);
  }

  private removeHandlers(handlers: RoutedHandler[]): Promise<void> {
    const orphaned = handlers.flatMap((h) => {
      this.dispatcher.forget(h);
      return this.router.unregister(h);
    });
    return this.connection.subscriptions.unsubscribe(orphaned);
  }
}

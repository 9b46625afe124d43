import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  connect,
  type IClientOptions,
  type IClientPublishOptions,
  type IPublishPacket,
  type ISubscriptionGrant,
  type MqttClient,
} from 'mqtt';
import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import { toMqttConnectOptions } from './config/mqtt-client-options';
import {
  currentBroker,
  MQTT5_REFUSED,
  QOS_ABOVE_MAX,
  SUBSCRIBE_QOS_CAPPED,
} from './connection/broker-support';
import { probeSharedSubscriptions, sharedGroups } from './connection/shared-probe';
import { MQTT_CONFIG, MQTT_LOGGER_CONTEXT, MQTT_MODULE_OPTIONS } from './mqtt.constants';
import * as messages from './mqtt.messages';
import { MqttConnectionError } from './errors/mqtt-connection.error';
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
  MqttSubscription,
} from './interfaces/mqtt-service.interface';
import type { MqttQos, MqttSubscribeOptions } from './interfaces/subscribe-options.interface';
import {
  MqttRouter,
  type MqttBrokerSubscription,
  type MqttDispatchListener,
  type RoutedHandler,
} from './mqtt.router';
import { encodePayload, previewPayload, type MqttPayload } from './utils/payload.utils';
import { topicNameProblem } from './utils/topic.utils';

/** Connection refusal reasons of MQTT 3.1.1 (CONNACK return codes 1-5). */
const V3_REFUSALS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
]);

interface PendingAck {
  readonly packet: IPublishPacket;
  readonly messageId: number;
  ready: boolean;
}
/** The parts of MQTT.js used to send PUBACK / PUBCOMP once handlers settled. */
interface RawClient {
  _sendPacket(
    packet: { cmd: 'puback' | 'pubcomp'; messageId: number; reasonCode?: number },
    cb: () => void,
  ): void;
  _releaseIncomingQoS2Publish?(messageId: number): void;
  incomingStore: { del(packet: IPublishPacket, cb: () => void): unknown };
}
const ACK_DEFERRED = new Error('nestjs-mqtt: acknowledgement deferred until the handlers settle');
function noop(): void {}

/**
 * MQTT.js options with no undefined keys: it copies and inspects every key it is given, and an
 * explicit `properties: undefined` alone costs ~2 µs per publish.
 */
function publishOptions(qos: MqttQos, options: MqttPublishOptions): IClientPublishOptions {
  const opts: IClientPublishOptions = { qos };
  if (options.retain) opts.retain = true;
  if (options.properties) opts.properties = options.properties;
  return opts;
}

/** Certificate and handshake errors: the broker was reached, TLS settings are to blame. */
function isTlsError(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('CERT_') ||
    code.startsWith('UNABLE_TO_') ||
    code.includes('SELF_SIGNED') ||
    code === 'EPROTO' ||
    code === 'HOSTNAME_MISMATCH'
  );
}

/** The reason to report for a handler's error; for Nest's HttpException, its response message. */
function describeError(error: unknown): string {
  const response = (error as { getResponse?: () => unknown } | null)?.getResponse?.();
  const detail = (response as { message?: unknown } | undefined)?.message;
  if (Array.isArray(detail)) return detail.join('; ');
  if (typeof detail === 'string') return detail;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The one owner of the broker connection: connects at bootstrap, publishes, subscribes at
 * runtime, reports the connection, and closes cleanly on `app.close()`.
 */
@Injectable()
export class MqttService
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(MQTT_LOGGER_CONTEXT);
  private readonly mqttClient: MqttClient;
  private readonly url: string;
  private readonly hostPort: string;
  private readonly stateSubject = new BehaviorSubject<MqttConnectionState>('idle');
  private readonly eventSubject = new Subject<MqttEvent>();
  private reconnectAttempts = 0;
  private everConnected = false;
  private closing = false;
  private readonly pendingRequests = new Map<
    string,
    { resolve: (value: MqttMessage) => void; reject: (error: Error) => void }
  >();
  /** QoS 1/2 messages whose PUBACK / PUBCOMP waits for their handlers, in arrival order. */
  private pendingAcks: PendingAck[] = [];
  /** QoS 2 messages whose handlers run, by message id, until they settle. */
  private readonly qos2Running = new Map<number, Promise<void>>();
  /** Holds MQTT.js's keepalive timeout off while reading is paused for back-pressure. */
  private keepaliveHold?: NodeJS.Timeout;
  /** Filters unsubscribed while offline, sent when the connection is back. */
  private readonly offlineUnsubscribes = new Set<string>();
  /** False if a future MQTT.js drops its packet writer: QoS 1 then falls back to one at a time. */
  private readonly canDeferAcks: boolean;
  private replyTopic?: string;
  private replySubscription?: Promise<unknown>;

  constructor(
    @Inject(MQTT_CONFIG) private readonly config: MqttConfig,
    @Inject(MQTT_MODULE_OPTIONS) options: MqttModuleOptions,
    private readonly router: MqttRouter,
  ) {
    const { url, options: derived } = toMqttConnectOptions(config);
    this.url = url;
    this.hostPort = `${config.host}:${config.port}`;
    const clientOptions: IClientOptions = {
      ...derived,
      ...options.clientOptions,
      manualConnect: true,
      resubscribe: false,
      queueQoSZero: true,
    };
    this.mqttClient = connect(url, clientOptions);
    this.mqttClient.handleMessage = (packet, callback) => this.onPublish(packet, callback);
    this.watchStreamErrors();
    const raw = this.mqttClient as unknown as Partial<RawClient>;
    this.canDeferAcks =
      typeof raw._sendPacket === 'function' && typeof raw.incomingStore?.del === 'function';
    this.router.setListener(this.dispatchListener, options.maxQueuedMessages);
    this.wireEvents();
  }

  /** The underlying MQTT.js client, for what this service does not cover. */
  get client(): MqttClient {
    return this.mqttClient;
  }

  /** Whether the client is connected to the broker now. */
  get connected(): boolean {
    return this.mqttClient.connected;
  }

  /** The connection state now. */
  get state(): MqttConnectionState {
    return this.stateSubject.value;
  }

  /** The connection state, now and as it changes. */
  get state$(): Observable<MqttConnectionState> {
    return this.stateSubject.asObservable();
  }

  /** Connection events (connect, reconnect, offline, close, disconnect, error, subscribe). */
  get events$(): Observable<MqttEvent> {
    return this.eventSubject.asObservable();
  }

  /** The client id the broker sees. */
  get clientId(): string {
    return this.mqttClient.options.clientId ?? this.config.clientId;
  }

  /** The filters subscribed at the broker (including `$share/<group>/` prefixes). */
  get topics(): string[] {
    return this.router.brokerSubscriptions().map((s) => s.filter);
  }

  /** Called by Nest: connects at bootstrap and waits for CONNACK and the first SUBACKs. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.tls.enabled && this.config.tls.insecure)
      this.log('warn', messages.TLS_INSECURE());
    this.log('log', messages.CONNECTING(this.url, this.clientId));
    this.setState('connecting');
    try {
      await this.firstConnection(() => this.mqttClient.connect());
      if (this.config.probeShared) {
        await probeSharedSubscriptions(this.mqttClient, sharedGroups(this.topics));
      }
    } catch (error) {
      if (this.config.connectInBackground) {
        this.log('warn', messages.CONNECT_IN_BACKGROUND(this.url, (error as Error).message));
        return;
      }
      await this.end();
      this.setState('closed');
      throw error;
    }
  }

  /**
   * Called by Nest, first step of `app.close()`: stops taking messages in and waits (bounded) for the
   * running handlers, while the connection is still up for their publishes and acknowledgements.
   */
  async onModuleDestroy(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.router.stopIntake();
    const busy = this.router.inFlight;
    if (busy > 0) {
      this.log('log', messages.SHUTDOWN_WAIT(busy, this.config.shutdownTimeout / 1000));
      const idle = await this.router.idle(this.config.shutdownTimeout);
      if (!idle) this.log('warn', messages.SHUTDOWN_TIMEOUT(this.router.inFlight));
    }
  }

  /** Called by Nest: then disconnects cleanly (DISCONNECT sent, so the broker drops the will). */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stateSubject.closed) return;
    await this.onModuleDestroy();
    for (const pending of this.pendingRequests.values()) {
      pending.reject(new MqttPublishError(messages.CLIENT_CLOSED()));
    }
    this.pendingRequests.clear();
    await this.end();
    this.setState('closed');
    this.stateSubject.complete();
    this.eventSubject.complete();
  }

  /**
   * Publishes a message. Resolves once the broker acknowledged it (QoS 1 and 2) or it was
   * written to the socket (QoS 0); while offline, it is queued and sent on reconnect.
   * Rejects with `MqttPublishError` for an invalid topic or payload, or when the client closed.
   * @param payload Buffer and string as they are; number and boolean as text; null/undefined as
   *   an empty payload; plain objects, arrays and class instances as JSON.
   */
  publish(topic: string, payload?: MqttPayload, options: MqttPublishOptions = {}): Promise<void> {
    const problem = topicNameProblem(topic);
    if (problem)
      return Promise.reject(new MqttPublishError(messages.INVALID_TOPIC(topic, problem)));
    const qos = options.qos ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) {
      return Promise.reject(new MqttPublishError(messages.INVALID_QOS(qos)));
    }
    if (qos > this.config.maxQos) {
      return Promise.reject(new MqttPublishError(QOS_ABOVE_MAX(topic, qos, this.config.maxQos)));
    }
    if (!this.mqttClient.connected) {
      if (this.stateSubject.value === 'closed' || (this.closing && this.everConnected)) {
        return Promise.reject(new MqttPublishError(messages.CLIENT_CLOSED()));
      }
      if (this.everConnected && this.config.reconnectPeriod === 0) {
        return Promise.reject(new MqttPublishError(messages.OFFLINE_NO_RECONNECT(topic)));
      }
    }
    let body: Buffer | string;
    try {
      body = encodePayload(payload);
    } catch (error) {
      return Promise.reject(new MqttPublishError((error as Error).message));
    }
    return new Promise<void>((resolve, reject) => {
      this.mqttClient.publish(topic, body, publishOptions(qos, options), (error) => {
        if (error) {
          reject(
            new MqttPublishError(messages.PUBLISH_FAILED(topic, error.message), { cause: error }),
          );
        } else {
          resolve();
        }
      });
    });
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
    const { handler: routed, changed } = this.router.register(
      {
        name: `subscribe(${filters.map((f) => JSON.stringify(f)).join(', ')})`,
        subscriptions: [{ filters, options: { ...options, share: options.share ?? false } }],
        invoke: (message) => handler(message.payload, message.topic, message),
      },
      undefined,
    );
    const subscription: MqttSubscription = {
      filters: routed.filters,
      unsubscribe: () => this.removeHandlers([routed]),
    };
    if (this.mqttClient.connected && changed.length > 0) {
      try {
        await this.sendSubscribe(changed, true);
      } catch (error) {
        await this.removeHandlers([routed]);
        throw error;
      }
    }
    return subscription;
  }

  /**
   * @internal Registers a handler discovered by the explorer. Does not talk to the broker: the
   * subscriptions are sent at bootstrap (or right away when already connected).
   */
  registerHandler(definition: Parameters<MqttRouter['register']>[0]): {
    handler: RoutedHandler;
    changed: MqttBrokerSubscription[];
  } {
    const registered = this.router.register(definition, this.config.sharedGroup);
    if (this.mqttClient.connected && registered.changed.length > 0) {
      this.sendSubscribe(registered.changed, false).catch(() => undefined);
    }
    return registered;
  }

  /**
   * Removes `filter` (as written, or as sent with its `$share/<group>/` prefix) from every
   * handler, runtime and `@Subscribe()`, and unsubscribes at the broker. Other filters of the
   * same handlers stay.
   */
  unsubscribe(filter: string): Promise<void> {
    return this.sendUnsubscribe(this.router.removeFilter(filter));
  }

  /**
   * Removes every handler, runtime and `@Subscribe()`, and unsubscribes from every filter (but
   * the private inbox of `request()`).
   */
  unsubscribeAll(): Promise<void> {
    const inbox = this.replyTopic;
    return this.removeHandlers(
      this.router.allHandlers().filter((h) => !inbox || !h.filters.includes(inbox)),
    );
  }

  /**
   * MQTT 5 request/response: publishes with a response topic and correlation data and resolves
   * with the first reply, or rejects after `timeout` ms (default 5000). Needs MQTT 5.
   */
  async request(
    topic: string,
    payload?: MqttPayload,
    options: MqttRequestOptions = {},
  ): Promise<MqttMessage> {
    if (this.config.protocolVersion !== 5) throw new MqttPublishError(messages.REQUEST_NEEDS_V5());
    const replyTopic = await this.ensureReplySubscription();
    const correlation = randomBytes(12);
    const key = correlation.toString('hex');
    const timeoutMs = options.timeout ?? 5000;
    const reply = new Promise<MqttMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingRequests.delete(key);
        reject(new MqttPublishError(messages.REQUEST_TIMEOUT(topic, timeoutMs)));
      }, timeoutMs);
      this.pendingRequests.set(key, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
    try {
      await this.publish(topic, payload, {
        qos: options.qos ?? 1,
        properties: {
          ...options.properties,
          responseTopic: replyTopic,
          correlationData: correlation,
        },
      });
    } catch (error) {
      this.pendingRequests.get(key)?.reject(error as Error);
      this.pendingRequests.delete(key);
    }
    return reply;
  }

  private ensureReplySubscription(): Promise<string> {
    // A random inbox: a client id may hold characters that are not allowed in a topic.
    const topic = (this.replyTopic ??= `nestjs-mqtt/replies/${randomBytes(12).toString('hex')}`);
    this.replySubscription ??= this.subscribe(
      topic,
      (_payload, _topic, message) => {
        const correlation = message.packet.properties?.correlationData;
        if (!correlation) return;
        const key = Buffer.from(correlation).toString('hex');
        const pending = this.pendingRequests.get(key);
        if (!pending) return;
        this.pendingRequests.delete(key);
        pending.resolve(message);
      },
      { qos: 1 },
    ).catch((error: unknown) => {
      this.replySubscription = undefined; // try again with the next request
      throw error;
    });
    return this.replySubscription.then(() => topic);
  }

  private readonly dispatchListener: MqttDispatchListener = {
    onHandlerResult: (handler, message, result) => {
      const responseTopic = message.packet.properties?.responseTopic;
      if (!responseTopic) return;
      this.publish(responseTopic, result as MqttPayload, {
        qos: message.packet.qos,
        properties: { correlationData: message.packet.properties?.correlationData },
      }).catch((error: Error) =>
        this.log('error', messages.REPLY_FAILED(handler.name, responseTopic, error.message)),
      );
    },
    onHandlerError: (handler, message, error): Promise<void> | undefined => {
      const reason = describeError(error);
      this.log(
        'error',
        messages.HANDLER_FAILED(
          handler.name,
          message.topic,
          reason,
          previewPayload(message.payload),
        ),
      );
      return this.deadLetter(handler, message, reason);
    },
  };

  /** Republishes a failed message; the message is acknowledged only after this settled. */
  private deadLetter(
    handler: RoutedHandler,
    message: MqttMessage,
    reason: string,
  ): Promise<void> | undefined {
    const topic = this.config.deadLetterTopic;
    if (!topic || message.topic === topic) return undefined;
    const info = { error: reason, topic: message.topic, handler: handler.name };
    const send =
      this.config.protocolVersion === 5
        ? this.publish(topic, message.payload, {
            qos: 1,
            properties: {
              userProperties: {
                'x-error': reason,
                'x-original-topic': message.topic,
                'x-handler': handler.name,
              },
            },
          })
        : this.publish(
            topic,
            {
              ...info,
              payload: message.payload.toString('base64'),
              payloadEncoding: 'base64',
            },
            { qos: 1 },
          );
    return send.catch((error: Error) =>
      this.log('error', messages.DEAD_LETTER_FAILED(topic, error.message)),
    );
  }

  /**
   * Called by MQTT.js for every incoming PUBLISH (QoS 2: at PUBREL) before it acknowledges.
   * QoS 0: handlers are queued and the client reads on, unless the queues are full.
   * QoS 1 and 2: the PUBACK / PUBCOMP is withheld until the handlers settle, but the client reads
   * on, so other messages (and other handlers) are not held up; acknowledgements still go out in
   * arrival order, as the MQTT specification requires.
   */
  private onPublish(packet: IPublishPacket, callback: (error?: Error) => void): void {
    if (packet.qos === 0) {
      void this.router.dispatch(packet, false);
      this.readOn(callback);
      return;
    }
    const messageId = packet.messageId;
    // A QoS 2 message whose handlers still run when the broker repeats PUBREL (after a
    // reconnect) is not dispatched again: its acknowledgement just waits for the first run.
    const running =
      packet.qos === 2 && messageId !== undefined ? this.qos2Running.get(messageId) : undefined;
    const settled = running ?? this.router.dispatch(packet, true);
    if (messageId === undefined || !this.canDeferAcks) {
      if (settled === undefined) callback();
      else settled.then(() => callback(), callback);
      return;
    }
    if (settled === undefined && this.pendingAcks.length === 0) {
      callback();
      return;
    }
    const ack: PendingAck = { packet, messageId, ready: settled === undefined };
    this.pendingAcks.push(ack);
    if (packet.qos === 2 && settled && !running) {
      this.qos2Running.set(messageId, settled);
      void settled.then(() => {
        this.qos2Running.delete(messageId);
        this.releaseQos2(packet, messageId);
      });
    } else if (packet.qos === 2 && !settled) {
      this.releaseQos2(packet, messageId);
    }
    if (settled) {
      void settled.then(() => {
        ack.ready = true;
        this.flushAcks();
      });
    }
    // An error tells MQTT.js not to acknowledge itself, and to go on with the next packet.
    this.readOn(() => callback(ACK_DEFERRED));
  }

  /**
   * Forgets a handled QoS 2 message as MQTT.js would before its PUBCOMP, whether or not the
   * connection is up: a PUBREL repeated after a reconnect then gets its PUBCOMP without a rerun.
   */
  private releaseQos2(packet: IPublishPacket, messageId: number): void {
    const raw = this.mqttClient as unknown as RawClient;
    raw.incomingStore.del(packet, noop);
    raw._releaseIncomingQoS2Publish?.(messageId);
  }

  /**
   * Lets MQTT.js read the next packet now, or once the handler queues drained. While reading is
   * paused MQTT.js cannot see PINGRESP, and would declare the connection dead after 1.5 x
   * keepalive; the pause exists because messages keep arriving, so its timeout is held off while
   * PINGREQs still go out (the broker expects to hear from the client).
   */
  private readOn(next: () => void): void {
    if (!this.router.saturated) {
      next();
      return;
    }
    const keepaliveMs = this.config.keepalive * 1000;
    if (keepaliveMs > 0 && !this.keepaliveHold) {
      this.keepaliveHold = setInterval(() => {
        if (!this.mqttClient.connected) return;
        this.mqttClient.sendPing();
        this.mqttClient.reschedulePing(true);
      }, keepaliveMs / 2);
      this.keepaliveHold.unref();
    }
    const resume = () => {
      clearInterval(this.keepaliveHold);
      this.keepaliveHold = undefined;
      next();
    };
    this.router.whenDrained().then(resume, resume);
  }

  /** Acknowledges settled messages, in the order they arrived (what MQTT.js would have done). */
  private flushAcks(): void {
    const queue = this.pendingAcks;
    const raw = this.mqttClient as unknown as RawClient;
    while (queue.length > 0 && queue[0].ready) {
      const { packet, messageId } = queue.shift()!;
      if (!this.mqttClient.connected) continue;
      raw._sendPacket(
        packet.qos === 1
          ? { cmd: 'puback', messageId, reasonCode: 0 }
          : { cmd: 'pubcomp', messageId },
        noop,
      );
    }
  }

  private removeHandlers(handlers: RoutedHandler[]): Promise<void> {
    return this.sendUnsubscribe(handlers.flatMap((h) => this.router.unregister(h)));
  }

  private async sendUnsubscribe(orphaned: string[]): Promise<void> {
    if (orphaned.length === 0) return;
    if (!this.mqttClient.connected) {
      // A persistent session would keep them at the broker: send them on the next connect.
      for (const filter of orphaned) this.offlineUnsubscribes.add(filter);
      return;
    }
    await this.mqttClient.unsubscribeAsync(orphaned);
  }

  /**
   * Sends SUBSCRIBE for `subs` and reports each SUBACK code: granted, downgraded or refused.
   * `strict` (runtime subscribe) turns a refusal or failure into a rejection.
   */
  private async sendSubscribe(subs: MqttBrokerSubscription[], strict: boolean): Promise<void> {
    if (subs.length === 0) return;
    const max = this.config.maxQos;
    const qosOf = (s: MqttBrokerSubscription) => Math.min(s.qos, max) as MqttQos;
    for (const s of subs) {
      if (s.qos > max) this.log('warn', SUBSCRIBE_QOS_CAPPED(s.filter, s.qos, max));
    }
    // MQTT 5 carries one subscription identifier per SUBSCRIBE packet, so one packet each: the
    // identifier tells which subscription each copy of a message came through.
    const batches =
      this.config.protocolVersion === 5
        ? subs.map((s) => ({
            subs: [s],
            send: () =>
              this.mqttClient.subscribeAsync(
                { [s.filter]: { qos: qosOf(s), nl: s.nl, rap: s.rap, rh: s.rh } },
                { properties: { subscriptionIdentifier: s.id } },
              ),
          }))
        : [
            {
              subs,
              send: () =>
                this.mqttClient.subscribeAsync(
                  Object.fromEntries(subs.map((s) => [s.filter, { qos: qosOf(s) }])),
                ),
            },
          ];
    const problems: string[] = [];
    await Promise.all(
      batches.map(async (batch) => {
        let codes: number[];
        try {
          codes = (await batch.send()).map((g: ISubscriptionGrant) => g.qos);
        } catch (error) {
          // MQTT.js rejects the whole SUBSCRIBE when the SUBACK refuses any filter; the packet
          // still holds each filter's code. Without a packet it really failed (e.g. went offline).
          const granted = (error as { packet?: { granted?: number[] } }).packet?.granted;
          if (!Array.isArray(granted)) {
            const reason = (error as Error).message;
            for (const s of batch.subs) {
              this.log('error', messages.SUBSCRIBE_FAILED(s.filter, reason));
              problems.push(messages.SUBSCRIBE_FAILED(s.filter, reason));
            }
            return;
          }
          codes = granted;
        }
        batch.subs.forEach((sub, index) => {
          const code = codes[index];
          if (code === undefined) return;
          sub.granted = code;
          this.eventSubject.next({
            type: 'subscribe',
            filter: sub.filter,
            qos: sub.qos,
            granted: code,
          });
          if (code >= 0x80) {
            const text = messages.SUBSCRIBE_REFUSED(
              sub.filter,
              `reason code 0x${code.toString(16)}`,
            );
            this.log('error', text);
            problems.push(text);
          } else if (code < qosOf(sub)) {
            this.log('warn', messages.SUBSCRIBE_DOWNGRADED(sub.filter, sub.qos, code));
          }
        });
      }),
    );
    if (strict && problems.length > 0) throw new MqttSubscribeError(problems.join('; '));
  }

  /** Starts connecting and resolves after CONNACK and the first SUBACKs, or rejects. */
  private firstConnection(start: () => void): Promise<void> {
    const timeoutMs = this.config.connectionTimeout;
    return new Promise<void>((resolve, reject) => {
      let connected = false;
      const cleanup = () => {
        clearTimeout(timer);
        this.mqttClient.off('connect', onConnect);
        this.mqttClient.off('error', onError);
        this.mqttClient.off('close', onClose);
      };
      const onConnect = () => {
        connected = true;
        this.mqttClient.off('connect', onConnect);
        this.mqttClient.off('error', onError);
        this.mqttClient.off('close', onClose);
        // The 'connect' listener in wireEvents() sends the subscriptions; wait for their SUBACKs
        // within the same time limit.
        this.initialSubscribe.then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          (error: Error) => {
            clearTimeout(timer);
            reject(error);
          },
        );
      };
      const onError = (error: Error & { code?: string | number }) => {
        cleanup();
        reject(this.connectError(error));
      };
      // MQTT.js re-emits only a few socket errors; a refused websocket upgrade or a TLS alert
      // after the handshake just closes the stream. Report that error instead of waiting.
      const onClose = () => {
        if (this.lastStreamError) onError(this.lastStreamError);
        // Closed without CONNACK and without a socket error, well before MQTT.js's own connect
        // timeout: a broker that does not speak MQTT 5 (NATS, RabbitMQ 3.x) does just that.
        else if (this.config.protocolVersion === 5 && Date.now() - startedAt < timeoutMs - 100) {
          cleanup();
          reject(new MqttConnectionError(MQTT5_REFUSED(currentBroker(this.mqttClient))));
        }
      };
      const startedAt = Date.now();
      const timer = setTimeout(() => {
        cleanup();
        if (connected) {
          reject(new MqttConnectionError(messages.SUBACK_TIMEOUT(this.hostPort, timeoutMs / 1000)));
          return;
        }
        const last = this.lastStreamError ? ` Last error: ${this.lastStreamError.message}.` : '';
        reject(
          new MqttConnectionError(messages.CONNECT_TIMEOUT(this.hostPort, timeoutMs / 1000) + last),
        );
      }, timeoutMs);
      this.mqttClient.on('connect', onConnect);
      this.mqttClient.on('error', onError);
      this.mqttClient.on('close', onClose);
      try {
        start();
      } catch (error) {
        onError(error as Error);
      }
    });
  }

  private initialSubscribe: Promise<void> = Promise.resolve();
  private lastStreamError?: Error & { code?: string };

  /** Remembers the last error of each socket MQTT.js opens (it re-emits only some of them). */
  private watchStreamErrors(): void {
    const client = this.mqttClient as unknown as { streamBuilder?: (c: MqttClient) => Duplex };
    const build = client.streamBuilder;
    if (typeof build !== 'function') return;
    client.streamBuilder = (c) => {
      this.lastStreamError = undefined;
      // MQTT.js keeps the TLS server name of the first broker of a list: let it name each one.
      if (this.config.brokers.length > 1) delete (c.options as { servername?: string }).servername;
      const stream = build(c);
      stream.on('error', (error: Error & { code?: string }) => {
        this.lastStreamError = error;
      });
      return stream;
    };
  }

  private connectError(error: Error & { code?: string | number }): MqttConnectionError {
    const code = error.code;
    if (typeof code === 'number') {
      const reason =
        this.config.protocolVersion === 5 ? error.message : (V3_REFUSALS[code] ?? error.message);
      return new MqttConnectionError(messages.CONNECT_REFUSED(this.url, reason), code, {
        cause: error,
      });
    }
    if (typeof code === 'string' && isTlsError(code)) {
      return new MqttConnectionError(
        messages.CONNECT_TLS_FAILED(this.hostPort, `${error.message} (${code})`),
        undefined,
        { cause: error },
      );
    }
    const reason =
      typeof code === 'string' && NETWORK_ERRORS.has(code)
        ? `${code} (${error.message})`
        : error.message;
    return new MqttConnectionError(messages.CONNECT_UNREACHABLE(this.hostPort, reason), undefined, {
      cause: error,
    });
  }

  private wireEvents(): void {
    const client = this.mqttClient;
    client.on('connect', (connack) => {
      const stream = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
      stream?.setNoDelay?.(true);
      this.everConnected = true;
      this.reconnectAttempts = 0;
      // With a broker list, MQTT.js sets options.host/port to the broker of each attempt.
      const broker = currentBroker(client);
      this.log(
        'log',
        messages.CONNECTED(`${this.config.protocol}://${broker}`, connack.sessionPresent),
      );
      this.setState('connected');
      this.eventSubject.next({ type: 'connect', sessionPresent: connack.sessionPresent, broker });
      // A resumed session keeps what the broker granted; send only what it lacks: new
      // subscriptions, raised QoS, earlier refusals, and unsubscribes made while offline.
      const subs = this.router
        .brokerSubscriptions()
        .filter((s) => !connack.sessionPresent || s.granted === undefined || s.granted >= 0x80);
      const unsubscribes = connack.sessionPresent ? [...this.offlineUnsubscribes] : [];
      this.offlineUnsubscribes.clear();
      this.initialSubscribe = Promise.all([
        this.sendSubscribe(subs, false),
        unsubscribes.length > 0
          ? client.unsubscribeAsync(unsubscribes).then(noop, noop)
          : undefined,
      ]).then(noop);
    });
    client.on('reconnect', () => {
      this.reconnectAttempts++;
      const n = this.reconnectAttempts;
      if (n <= 5 || n % 10 === 0) this.log('warn', messages.RECONNECTING(this.url, n));
      this.setState('reconnecting');
      this.eventSubject.next({ type: 'reconnect', attempt: n });
    });
    client.on('offline', () => {
      if (!this.closing) this.goneOffline();
    });
    client.on('close', () => {
      // Unsent PUBACKs belong to the old connection; the broker redelivers those messages.
      this.pendingAcks = [];
      // MQTT.js only reports 'offline' when it will reconnect; report the loss in every case.
      if (!this.closing && this.config.reconnectPeriod === 0 && this.state === 'connected') {
        this.goneOffline();
      }
      this.eventSubject.next({ type: 'close' });
    });
    client.on('disconnect', (packet) => {
      this.log(
        'warn',
        messages.BROKER_DISCONNECT(packet.reasonCode ?? 0, packet.properties?.reasonString),
      );
      this.eventSubject.next({ type: 'disconnect', reasonCode: packet.reasonCode ?? 0 });
    });
    client.on('error', (error) => {
      if (this.stateSubject.value === 'connecting') return; // reported by onApplicationBootstrap
      this.log('error', messages.CLIENT_ERROR(this.url, error.message));
      this.eventSubject.next({ type: 'error', error });
    });
  }

  private goneOffline(): void {
    if (this.everConnected)
      this.log('warn', messages.OFFLINE(this.url, this.config.reconnectPeriod));
    this.setState('offline');
    this.eventSubject.next({ type: 'offline' });
  }

  private log(level: 'log' | 'warn' | 'error', message: string): void {
    this.logger[level](message);
    if (!this.eventSubject.closed) this.eventSubject.next({ type: 'log', level, message });
  }

  private setState(state: MqttConnectionState): void {
    if (this.stateSubject.value !== state && !this.stateSubject.closed)
      this.stateSubject.next(state);
  }

  /**
   * Disconnects: gracefully (DISCONNECT sent, so no will) when connected, bounded in time; and in
   * every case so that MQTT.js cannot arm another reconnect afterwards (it would otherwise, when
   * the socket closes a tick after a forced end, and keep the process alive).
   */
  private async end(): Promise<void> {
    clearInterval(this.keepaliveHold);
    this.keepaliveHold = undefined;
    const client = this.mqttClient;
    client.options.reconnectPeriod = 0;
    if (client.connected) {
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(1000, Math.min(this.config.shutdownTimeout, 5000)));
      });
      const graceful = client.endAsync(false).then(() => true);
      const done = await Promise.race([graceful, forced.then(() => false)]);
      clearTimeout(timer);
      // A graceful end still waiting for acknowledgements makes a forced end() a no-op in
      // MQTT.js: close the socket ourselves so nothing keeps the process alive.
      if (!done) client.stream?.destroy();
    }
    await client.endAsync(true);
  }
}

import type { IClientPublishOptions, IConnackPacket, MqttClient } from 'mqtt';
import { MqttPublishError } from '../errors/mqtt-publish.error';
import type { MqttConfig } from '../interfaces/mqtt-config.interface';
import type { MqttPublishOptions } from '../interfaces/mqtt-service.interface';
import type { MqttQos } from '../interfaces/subscribe-options.interface';
import * as messages from '../mqtt.messages';
import { topicNameProblem } from '../routing/topic.utils';
import { loadMqttTracing, type MqttTracing } from '../tracing/mqtt-tracing';
import { encodePayload, type MqttPayload } from '../utils/payload.utils';
import {
  DEFAULT_BROKER_LIMITS,
  brokerLimitsFrom,
  publishProblem,
  type BrokerLimits,
} from './broker-limits';
import * as connectionMessages from './connection.messages';
import { OutboundWindow, type WindowPermit } from './outbound-window';

/**
 * The sending side of the connection: publishes through MQTT.js, queues (bounded) while offline,
 * and applies the publish timeout. Obeys the broker's limits of the current connection (CONNACK):
 * Maximum QoS, Retain Available, Topic Alias Maximum, Maximum Packet Size, and Receive Maximum
 * (QoS 1/2 PUBLISHes wait for a slot of the in-flight window, in call order).
 */
export class MqttOutbound {
  /** Publishes issued while offline and not yet sent and acknowledged. */
  private offlinePending = 0;
  private currentLimits: BrokerLimits = DEFAULT_BROKER_LIMITS;
  /** Whether the limits can refuse a PUBLISH at all (a 3.1.1 broker announces none). */
  private limitsBind = false;
  private readonly window = new OutboundWindow();
  /** The topic `publish()` last found valid. */
  private lastValidTopic: string | undefined;
  /** OpenTelemetry tracing, on MQTT 5 when `@opentelemetry/api` is installed. */
  private readonly tracing: MqttTracing | undefined;

  constructor(
    private readonly client: MqttClient,
    private readonly config: MqttConfig,
    private readonly blocked: () => string | undefined,
  ) {
    this.tracing = config.protocolVersion === 5 ? loadMqttTracing() : undefined;
  }

  /** What the broker allows, from the CONNACK of the current (or last) connection. */
  get limits(): BrokerLimits {
    return this.currentLimits;
  }

  /** Counts of what is waiting, for `MqttService.stats()`. */
  get queuedOffline(): number {
    return this.offlinePending;
  }

  /**
   * Sends one PUBLISH. Resolves once the broker acknowledged it (QoS 1 and 2) or it was written
   * (QoS 0); while offline it is queued, up to MQTT_OFFLINE_QUEUE_LIMIT. Rejects with
   * `MqttPublishError` for an invalid topic, QoS or payload, a full queue, or a closed client.
   */
  publish(topic: string, payload: MqttPayload, options: MqttPublishOptions = {}): Promise<void> {
    // A run of publishes to one topic checks it once (strings never change).
    if (topic !== this.lastValidTopic) {
      const problem = topicNameProblem(topic);
      if (problem)
        return Promise.reject(new MqttPublishError(messages.INVALID_TOPIC(topic, problem)));
      this.lastValidTopic = topic;
    }
    const qos = options.qos ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) {
      return Promise.reject(new MqttPublishError(messages.INVALID_QOS(qos)));
    }
    if (qos > this.config.maxQos) {
      return Promise.reject(
        new MqttPublishError(connectionMessages.QOS_ABOVE_MAX(topic, qos, this.config.maxQos)),
      );
    }
    let body: Buffer | string;
    try {
      body = encodePayload(payload);
    } catch (error) {
      return Promise.reject(new MqttPublishError((error as Error).message));
    }
    const trace = this.tracing?.injectTraceContext(topic, qos, options.properties);
    if (!trace) return this.send(topic, body, qos, options);
    const sent = this.send(topic, body, qos, { ...options, properties: trace.properties });
    void sent.then(() => trace.end(), trace.end);
    return sent;
  }

  private send(topic: string, body: Buffer | string, qos: MqttQos, options: MqttPublishOptions) {
    const reason = this.blocked();
    if (reason)
      return Promise.reject(new MqttPublishError(messages.PUBLISH_REFUSED(topic, reason)));
    const offline = !this.client.connected;
    if (offline) {
      if (this.offlinePending >= this.config.offlineQueueLimit) {
        return Promise.reject(
          new MqttPublishError(messages.OFFLINE_QUEUE_FULL(topic, this.config.offlineQueueLimit)),
        );
      }
      this.offlinePending++;
    }
    const timeoutMs = this.config.publishTimeout;
    const abort = timeoutMs > 0 ? new AbortController() : undefined;
    // QoS 1/2 take a slot of the broker's Receive Maximum first (a timeout stops the wait); the
    // limits checked are those of the connection the slot belongs to.
    const permit = qos === 0 ? undefined : this.window.tryAcquire();
    let waiting = qos !== 0 && !permit;
    const sent = !waiting
      ? this.write(topic, body, qos, options, permit)
      : this.window.acquire(abort?.signal).then((granted) => {
          waiting = false;
          return this.write(topic, body, qos, options, granted);
        });
    const done = offline ? sent.finally(() => this.offlinePending--) : sent;
    if (!abort) return done;
    return withTimeout(done, timeoutMs, abort, () => {
      const seconds = timeoutMs / 1000;
      return new MqttPublishError(
        waiting
          ? connectionMessages.PUBLISH_WINDOW_TIMEOUT(topic, seconds, this.window.limit)
          : messages.PUBLISH_TIMEOUT(topic, seconds),
      );
    });
  }

  /** Checks the PUBLISH against the broker's limits, and hands it to MQTT.js. */
  private write(
    topic: string,
    body: Buffer | string,
    qos: MqttQos,
    options: MqttPublishOptions,
    permit?: WindowPermit,
  ): Promise<void> {
    const problem =
      this.limitsBind || options.properties?.topicAlias !== undefined
        ? publishProblem(
            this.currentLimits,
            { topic, payload: body, qos, retain: options.retain, properties: options.properties },
            this.config.protocolVersion,
          )
        : undefined;
    if (problem) {
      permit?.release();
      return Promise.reject(new MqttPublishError(problem));
    }
    return new Promise<void>((resolve, reject) => {
      this.client.publish(topic, body, publishOptions(qos, options), (error) => {
        permit?.release();
        if (!error) resolve();
        else
          reject(
            new MqttPublishError(messages.PUBLISH_FAILED(topic, error.message), { cause: error }),
          );
      });
    });
  }

  /** Called on each CONNACK: its limits, and an in-flight window of its Receive Maximum. */
  onConnect(connack: IConnackPacket): void {
    const limits = (this.currentLimits = brokerLimitsFrom(connack));
    this.limitsBind =
      limits.maximumQos < 2 || !limits.retainAvailable || limits.maximumPacketSize !== undefined;
    this.window.open(limits.receiveMaximum);
  }

  /**
   * Called when the connection is lost: the slots of its unacknowledged PUBLISHes are void
   * (MQTT.js resends those itself, one at a time, before it reports the next connect).
   */
  onClose(): void {
    this.window.suspend();
  }

  /** Shutdown: publishes still waiting for a slot are rejected. */
  close(): void {
    this.window.close(new MqttPublishError(messages.CLIENT_CLOSED()));
  }
}

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

/** Rejects with `timedOut()` after `ms`, and aborts what still waits (a slot of the window). */
function withTimeout(
  sent: Promise<void>,
  ms: number,
  abort: AbortController,
  timedOut: () => Error,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = timedOut();
      abort.abort(error);
      reject(error);
    }, ms);
  });
  return Promise.race([sent, timeout]).finally(() => clearTimeout(timer));
}

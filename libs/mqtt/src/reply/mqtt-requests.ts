import { randomBytes } from 'node:crypto';
import { MqttPublishError } from '../errors/mqtt-publish.error';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import type {
  MqttPublishOptions,
  MqttRequestOptions,
  MqttSubscription,
} from '../interfaces/mqtt-service.interface';
import type { MqttSubscribeOptions } from '../interfaces/subscribe-options.interface';
import * as messages from '../mqtt.messages';
import type { MqttPayload } from '../utils/payload.utils';

/** What request/reply needs of the service. */
export interface MqttRequestTransport {
  publish(topic: string, payload: MqttPayload, options: MqttPublishOptions): Promise<void>;
  subscribe(
    filter: string,
    handler: (payload: Buffer, topic: string, message: MqttMessage) => unknown,
    options: MqttSubscribeOptions,
  ): Promise<MqttSubscription>;
}

interface Pending {
  resolve(message: MqttMessage): void;
  reject(error: Error): void;
}

/**
 * The asking side of MQTT 5 request/response: a private inbox topic, correlation data per
 * request, and a timeout. (The answering side is a handler's return value.)
 */
export class MqttRequests {
  private readonly pending = new Map<string, Pending>();
  /** A random inbox: a client id may hold characters that are not allowed in a topic. */
  readonly inbox = `nestjs-mqtt/replies/${randomBytes(12).toString('hex')}`;
  private inboxReady?: Promise<unknown>;
  private inboxSubscribed = false;

  constructor(
    private readonly transport: MqttRequestTransport,
    private readonly protocolVersion: number,
  ) {}

  request(
    topic: string,
    payload: MqttPayload,
    options: MqttRequestOptions = {},
  ): Promise<MqttMessage> {
    if (this.protocolVersion !== 5) {
      return Promise.reject(new MqttPublishError(messages.REQUEST_NEEDS_V5()));
    }
    // Once the inbox is subscribed, a request costs no extra turn of the event loop.
    if (this.inboxSubscribed) return this.send(topic, payload, options);
    return this.ensureInbox().then(() => this.send(topic, payload, options));
  }

  private send(topic: string, payload: MqttPayload, options: MqttRequestOptions) {
    const correlation = randomBytes(12);
    const key = correlation.toString('hex');
    const timeoutMs = options.timeout ?? 5000;
    return new Promise<MqttMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new MqttPublishError(messages.REQUEST_TIMEOUT(topic, timeoutMs)));
      }, timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.pending.delete(key);
        reject(error);
      };
      this.pending.set(key, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: fail,
      });
      // The reply may come before the publish settles: it is awaited only for its failure.
      try {
        this.transport
          .publish(topic, payload, {
            qos: options.qos ?? 1,
            properties: {
              ...options.properties,
              responseTopic: this.inbox,
              correlationData: correlation,
            },
          })
          .catch(fail);
      } catch (error) {
        fail(error as Error);
      }
    });
  }

  /** Rejects every open request (shutdown). */
  rejectAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  private ensureInbox(): Promise<unknown> {
    this.inboxReady ??= this.transport
      .subscribe(this.inbox, (_payload, _topic, message) => this.onReply(message), { qos: 1 })
      .then(
        () => {
          this.inboxSubscribed = true;
        },
        (error: unknown) => {
          this.inboxReady = undefined; // try again with the next request
          throw error;
        },
      );
    return this.inboxReady;
  }

  private onReply(message: MqttMessage): void {
    const correlation = message.packet.properties?.correlationData;
    if (!correlation) return;
    const key = Buffer.from(correlation).toString('hex');
    const pending = this.pending.get(key);
    if (!pending) return;
    this.pending.delete(key);
    pending.resolve(message);
  }
}

import type { IPublishPacket } from 'mqtt';
import type { MqttPublishOptions } from '../interfaces/mqtt-service.interface';
import * as messages from '../mqtt.messages';
import type { MqttEventBus } from '../mqtt-event-bus';
import type { MqttRouter } from '../routing/mqtt.router';
import { describeError } from '../utils/describe-error';
import { previewPayload, type MqttPayload } from '../utils/payload.utils';
import type { DeadLetters } from './dead-letters';
import { ABANDONED, type MqttDispatcher, type MqttOutcome } from './mqtt.dispatcher';

type Publish = (topic: string, payload: MqttPayload, options: MqttPublishOptions) => Promise<void>;

/** How often (at most) a warning about dropped QoS 0 messages is logged. */
const DROP_WARNING_EVERY_MS = 10_000;

/**
 * The one path of a received message: router (which handlers) -> dispatcher (runs them) ->
 * outcomes (replies sent, failures reported and dead-lettered) -> the verdict the connection
 * acknowledges on. Nothing here calls back into the connection.
 */
export class MessagePipeline {
  /** QoS 0 drops per handler since the last warning. */
  private readonly drops = new Map<string, number>();
  private lastDropWarning = 0;
  private dropTimer?: NodeJS.Timeout;

  constructor(
    private readonly router: MqttRouter,
    private readonly dispatcher: MqttDispatcher,
    private readonly bus: MqttEventBus,
    private readonly deadLetters: DeadLetters,
    private readonly publish: Publish,
  ) {}

  /**
   * Handles one PUBLISH. Returns undefined when it may be acknowledged at once, else a promise
   * of whether to acknowledge it (false: shutdown left it unstarted; the broker redelivers it).
   * Each handler's outcome is acted on as soon as that handler settles; the acknowledgement
   * waits for every handler that did not choose `ack: 'on-receipt'`, and for dead letters.
   */
  readonly handle = (packet: IPublishPacket): Promise<boolean> | undefined => {
    const routes = this.router.route(packet);
    if (routes.length === 0) return undefined;
    const reportAll = this.bus.observed;
    let waits: Array<Promise<boolean>> | undefined;
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i];
      const result = this.dispatcher.run(route, reportAll);
      if (result === undefined) continue;
      const tracked = packet.qos > 0 && !route.handler.ackOnReceipt;
      let verdict: Promise<boolean> | undefined;
      if ('then' in result) {
        verdict = result.then((outcome) =>
          outcome === ABANDONED ? false : outcome === undefined ? true : this.settle(outcome),
        );
      } else {
        const after = this.act(result);
        if (after) verdict = after.then(() => true);
      }
      if (verdict && tracked) (waits ??= []).push(verdict);
    }
    if (!waits) return undefined;
    if (waits.length === 1) return waits[0];
    return Promise.all(waits).then((verdicts) => verdicts.every(Boolean));
  };

  /** Acts on one outcome; resolves once its dead letter was sent (the ack waits for it). */
  private settle(outcome: MqttOutcome): true | Promise<boolean> {
    const after = this.act(outcome);
    return after ? after.then(() => true) : true;
  }

  private act(outcome: MqttOutcome): Promise<void> | undefined {
    const { route, kind } = outcome;
    const { handler, message } = route;
    if (this.bus.observed && kind !== 'dropped') {
      this.bus.emit({
        type: 'message',
        handler: handler.name,
        topic: message.topic,
        outcome: kind,
        durationMs: outcome.durationMs,
      });
    }
    if (kind === 'handled') {
      if (outcome.result !== undefined) this.reply(handler.name, route.message, outcome.result);
      return undefined;
    }
    if (kind === 'dropped') {
      this.dropped(handler.name);
      return undefined;
    }
    const reason =
      kind === 'timeout'
        ? messages.HANDLER_TIMED_OUT(outcome.durationMs)
        : describeError(outcome.error);
    this.bus.log(
      'error',
      messages.HANDLER_FAILED(handler.name, message.topic, reason, previewPayload(message.payload)),
    );
    return this.deadLetters
      .send(handler.name, message, reason)
      ?.catch((error: Error) =>
        this.bus.log('error', messages.DEAD_LETTER_FAILED(message.topic, error.message)),
      );
  }

  /** MQTT 5 request/response: a handler's return value goes to the response topic. */
  private reply(handler: string, message: MqttOutcome['route']['message'], result: unknown) {
    const responseTopic = message.packet.properties?.responseTopic;
    if (!responseTopic) return;
    this.publish(responseTopic, result as MqttPayload, {
      qos: message.packet.qos,
      properties: { correlationData: message.packet.properties?.correlationData },
    }).catch((error: Error) =>
      this.bus.log('error', messages.REPLY_FAILED(handler, responseTopic, error.message)),
    );
  }

  private dropped(handler: string): void {
    this.drops.set(handler, (this.drops.get(handler) ?? 0) + 1);
    const wait = this.lastDropWarning + DROP_WARNING_EVERY_MS - Date.now();
    if (wait <= 0) {
      this.warnDrops();
    } else if (!this.dropTimer) {
      // Drops within the quiet period are summed up when it ends, even if none follow.
      this.dropTimer = setTimeout(() => this.warnDrops(), wait);
      this.dropTimer.unref();
    }
  }

  private warnDrops(): void {
    clearTimeout(this.dropTimer);
    this.dropTimer = undefined;
    for (const [handler, count] of this.drops) {
      this.bus.log('warn', messages.QOS0_DROPPED(handler, count));
    }
    this.drops.clear();
    this.lastDropWarning = Date.now();
  }
}

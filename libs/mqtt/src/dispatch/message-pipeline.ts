import type { IPublishPacket } from 'mqtt';
import type { MqttPublishOptions } from '../interfaces/mqtt-service.interface';
import * as messages from '../mqtt.messages';
import type { MqttEventBus } from '../mqtt-event-bus';
import type { MqttRouter } from '../routing/mqtt.router';
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
  private dropsSinceWarning = 0;
  private lastDropWarning = 0;

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
   */
  readonly handle = (packet: IPublishPacket): Promise<boolean> | undefined => {
    const routes = this.router.route(packet);
    if (routes.length === 0) return undefined;
    this.dispatcher.reportAll = this.bus.observed;
    const result = this.dispatcher.dispatch(routes);
    if (result === undefined) return undefined;
    const waitForHandlers = packet.qos > 0 && routes.some((r) => !r.handler.ackOnReceipt);
    const verdict =
      'then' in result
        ? result.then((outcomes) => (outcomes === ABANDONED ? false : this.settle(outcomes)))
        : this.settle(result);
    if (!waitForHandlers) return undefined;
    return verdict === true ? undefined : verdict;
  };

  /** Acts on the outcomes; resolves once dead letters were sent (the ack waits for them). */
  private settle(outcomes: readonly MqttOutcome[]): true | Promise<boolean> {
    let pending: Array<Promise<void>> | undefined;
    for (const outcome of outcomes) {
      const after = this.act(outcome);
      if (after) (pending ??= []).push(after);
    }
    return pending ? Promise.all(pending).then(() => true) : true;
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
    this.dropsSinceWarning++;
    const now = Date.now();
    if (now - this.lastDropWarning < DROP_WARNING_EVERY_MS) return;
    this.bus.log('warn', messages.QOS0_DROPPED(handler, this.dropsSinceWarning));
    this.dropsSinceWarning = 0;
    this.lastDropWarning = now;
  }
}

/** The reason to report for a handler's error; for Nest's HttpException, its response message. */
function describeError(error: unknown): string {
  const response = (error as { getResponse?: () => unknown } | null)?.getResponse?.();
  const detail = (response as { message?: unknown } | undefined)?.message;
  if (Array.isArray(detail)) return detail.join('; ');
  if (typeof detail === 'string') return detail;
  return error instanceof Error ? error.message : String(error);
}

import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import type { MqttPublishOptions } from '../interfaces/mqtt-service.interface';
import type { MqttPayload } from '../utils/payload.utils';

type Publish = (topic: string, payload: MqttPayload, options: MqttPublishOptions) => Promise<void>;

/**
 * Republishes a failed message to MQTT_DEAD_LETTER_TOPIC, at QoS 1: on MQTT 5 as it came, with
 * the reason in user properties; on 3.x in a JSON envelope with the payload in base64.
 */
export class DeadLetters {
  constructor(
    private readonly topic: string | undefined,
    private readonly protocolVersion: number,
    private readonly publish: Publish,
  ) {}

  /** Sends the dead letter; undefined when there is no dead-letter topic (or it failed there). */
  send(handler: string, message: MqttMessage, reason: string): Promise<void> | undefined {
    const topic = this.topic;
    if (!topic || message.topic === topic) return undefined;
    if (this.protocolVersion === 5) {
      return this.publish(topic, message.payload, {
        qos: 1,
        properties: {
          userProperties: {
            'x-error': reason,
            'x-original-topic': message.topic,
            'x-handler': handler,
          },
        },
      });
    }
    const envelope = {
      error: reason,
      topic: message.topic,
      handler,
      payload: message.payload.toString('base64'),
      payloadEncoding: 'base64',
    };
    return this.publish(topic, envelope, { qos: 1 });
  }
}

import { MQTT_SUBSCRIBE_METADATA } from '../mqtt.constants';
import type { MqttSubscribeOptions } from '../interfaces/subscribe-options.interface';

/** What `@Subscribe()` records on a method. */
export interface MqttSubscribeMetadata {
  readonly filters: readonly string[];
  readonly options: MqttSubscribeOptions;
}

/**
 * Routes messages whose topic matches `filter` to the decorated method. Filters follow MQTT
 * (`+` one level, `#` the rest) and may name their wildcards (`sensors/+deviceId/temp`,
 * `logs/#path`) for `@TopicParam()`. Stackable; each distinct filter is subscribed once at the
 * broker, with the highest QoS any handler asks for.
 *
 * Without parameter decorators the method is called as `(payload: Buffer, topic, packet)`.
 */
export function Subscribe(
  filter: string | readonly string[],
  options: MqttSubscribeOptions = {},
): MethodDecorator {
  const filters = typeof filter === 'string' ? [filter] : [...filter];
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const previous: MqttSubscribeMetadata[] =
      Reflect.getMetadata(MQTT_SUBSCRIBE_METADATA, method) ?? [];
    Reflect.defineMetadata(MQTT_SUBSCRIBE_METADATA, [...previous, { filters, options }], method);
    return descriptor;
  };
}

import { MQTT_EVENT_METADATA } from '../mqtt.constants';
import type { MqttEvent } from '../interfaces/mqtt-service.interface';

/** Event types `@OnMqttEvent()` can listen to. */
export type MqttEventType = MqttEvent['type'];

/**
 * Calls the decorated method with the `MqttEvent` each time the connection reports `type`.
 * Errors thrown by the method are logged, never propagated. Stackable.
 */
export function OnMqttEvent(type: MqttEventType): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const previous: MqttEventType[] = Reflect.getMetadata(MQTT_EVENT_METADATA, method) ?? [];
    Reflect.defineMetadata(MQTT_EVENT_METADATA, [...previous, type], method);
    return descriptor;
  };
}

/** Flask-MQTT's `on_connect`: after every CONNACK (first connection and reconnects). */
export const OnMqttConnect = (): MethodDecorator => OnMqttEvent('connect');
/** Flask-MQTT's `on_disconnect`: when the connection to the broker is lost. */
export const OnMqttDisconnect = (): MethodDecorator => OnMqttEvent('offline');
/** Flask-MQTT's `on_subscribe`: after each SUBACK, with the QoS asked for and granted. */
export const OnMqttSubscribe = (): MethodDecorator => OnMqttEvent('subscribe');
/** Flask-MQTT's `on_log`: every line the module logs, with its level. */
export const OnMqttLog = (): MethodDecorator => OnMqttEvent('log');

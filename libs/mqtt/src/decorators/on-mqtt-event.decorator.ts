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

/** After every CONNACK: the first connection and each reconnect (Flask-MQTT's `on_connect`). */
export const OnMqttConnect = (): MethodDecorator => OnMqttEvent('connect');
/** When the connection to the broker is lost (Flask-MQTT's `on_disconnect`). */
export const OnMqttDisconnect = (): MethodDecorator => OnMqttEvent('offline');
/** After each SUBACK, with the QoS asked for and granted (Flask-MQTT's `on_subscribe`). */
export const OnMqttSubscribe = (): MethodDecorator => OnMqttEvent('subscribe');
/** Every line the module logs, with its level (Flask-MQTT's `on_log`). */
export const OnMqttLog = (): MethodDecorator => OnMqttEvent('log');

import { Inject } from '@nestjs/common';
import { MQTT_CONFIG } from './mqtt.constants';
import { MqttService } from './mqtt.service';

/** The name of the connection configured without a `name`. */
export const DEFAULT_MQTT_CONNECTION = 'default';

/**
 * The injection token of a connection's `MqttService`: the `MqttService` class itself for the
 * default connection, a string for a named one (`forRoot({ name })`).
 */
export function getMqttServiceToken(
  name: string = DEFAULT_MQTT_CONNECTION,
): string | typeof MqttService {
  return name === DEFAULT_MQTT_CONNECTION ? MqttService : `nestjs-mqtt:service:${name}`;
}

/** The injection token of a connection's validated `MqttConfig`. */
export function getMqttConfigToken(name: string = DEFAULT_MQTT_CONNECTION): string | symbol {
  return name === DEFAULT_MQTT_CONNECTION ? MQTT_CONFIG : `nestjs-mqtt:config:${name}`;
}

/**
 * Injects the `MqttService` of a named connection: `constructor(@InjectMqtt('backup') backup:
 * MqttService)`. Without a name, the default connection (the same as injecting `MqttService`).
 */
export const InjectMqtt = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getMqttServiceToken(name));

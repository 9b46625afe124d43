/** Injection token of the options given to `MqttModule.forRoot()` / `forRootAsync()`. */
export const MQTT_MODULE_OPTIONS = Symbol('nestjs-mqtt:module-options');
/** Injection token of the validated `MqttConfig` (of the default connection). */
export const MQTT_CONFIG = Symbol('nestjs-mqtt:config');
/** Inside each connection's module: its own config, whatever its name (not exported). */
export const MQTT_CONNECTION_CONFIG = Symbol('nestjs-mqtt:connection-config');

export const MQTT_SUBSCRIBE_METADATA = 'nestjs-mqtt:subscribe';
export const MQTT_ARGS_METADATA = 'nestjs-mqtt:args';
export const MQTT_EVENT_METADATA = 'nestjs-mqtt:event';

/** Logger context used by every log line of the module. */
export const MQTT_LOGGER_CONTEXT = 'MqttModule';

/** Context type reported by `ExecutionContext.getType()` inside MQTT handlers. */
export const MQTT_CONTEXT_TYPE = 'mqtt';

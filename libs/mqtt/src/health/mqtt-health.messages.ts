/** Texts of `nestjs-mqtt/health`. */

export const UNKNOWN_CONNECTION = (name: string): string =>
  `no MQTT connection named "${name}" is configured: add MqttModule.forRoot({ name: '${name}', ... }) ` +
  `(or forRootAsync) to the app, or remove "${name}" from the indicator's connections`;

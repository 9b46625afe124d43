/**
 * `nestjs-mqtt/testing`: an in-process MQTT broker and a one-call Nest app against it, for
 * tests of MQTT handlers. Needs `aedes` and `@nestjs/testing` (optional peer dependencies).
 */
export { startMqttTestingApp } from './mqtt-testing-app';
export {
  startMqttTestBroker,
  type MqttCapturedMessage,
  type MqttTestBroker,
  type MqttTestBrokerOptions,
} from './mqtt-test-broker';
export type {
  MqttDelivery,
  MqttHandlerSettledEvent,
  MqttSettledMatch,
  MqttTestingApp,
  MqttTestingAppOptions,
  MqttTestPublishOptions,
} from './mqtt-testing.interfaces';

/**
 * `nestjs-mqtt/health`: a health indicator for `@nestjs/terminus` (an optional peer dependency,
 * needed only by this entry point).
 */
export {
  MqttHealthIndicator,
  type MqttConnectionHealth,
  type MqttHealthOptions,
} from './mqtt.health';

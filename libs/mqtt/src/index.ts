export { MqttModule } from './mqtt.module';
export { MqttService } from './mqtt.service';
export {
  InjectMqtt,
  getMqttServiceToken,
  getMqttConfigToken,
  DEFAULT_MQTT_CONNECTION,
} from './mqtt.tokens';
export { MqttContext } from './mqtt.context';
export { MQTT_CONFIG, MQTT_MODULE_OPTIONS, MQTT_CONTEXT_TYPE } from './mqtt.constants';
export { Subscribe } from './decorators/subscribe.decorator';
export {
  Payload,
  Topic,
  TopicParam,
  TopicParams,
  Packet,
  Message,
  UserProperties,
  MessageProperties,
} from './decorators/params.decorator';
export {
  OnMqttEvent,
  OnMqttConnect,
  OnMqttDisconnect,
  OnMqttSubscribe,
  OnMqttLog,
  type MqttEventType,
} from './decorators/on-mqtt-event.decorator';
export { MqttConfigDto, validateMqttConfig, parseMqttConfig } from './config';
export { MqttConfigError } from './errors/mqtt-config.error';
export { MqttConnectionError } from './errors/mqtt-connection.error';
export { MqttPublishError } from './errors/mqtt-publish.error';
export { MqttSubscribeError } from './errors/mqtt-subscribe.error';
export { MqttPayloadError } from './errors/mqtt-payload.error';
export type { MqttConfig, MqttConfigInput } from './interfaces/mqtt-config.interface';
export type { MqttMessage, MqttUserProperties } from './interfaces/mqtt-message.interface';
export type {
  MqttModuleOptions,
  MqttModuleRootOptions,
  MqttModuleAsyncOptions,
  MqttValidationOptions,
  MqttOptionsFactory,
} from './interfaces/mqtt-module-options.interface';
export type {
  MqttConnectionState,
  MqttEvent,
  MqttPublishOptions,
  MqttRequestOptions,
  MqttSubscription,
  MqttStatus,
  MqttStats,
  MqttHandlerStats,
} from './interfaces/mqtt-service.interface';
export type { MqttQos, MqttSubscribeOptions } from './interfaces/subscribe-options.interface';
export type { MqttPayload } from './utils/payload.utils';
export { topicMatches } from './routing/topic.utils';
export { generateAsyncApi } from './asyncapi/asyncapi.generator';
export { asyncApiHandler } from './asyncapi/asyncapi.route';
export {
  MqttPublishes,
  type MqttPublishesOptions,
  type MqttPublishesMetadata,
} from './asyncapi/publishes.decorator';
export type {
  AsyncApiChannel,
  AsyncApiDocument,
  AsyncApiMessage,
  AsyncApiOperation,
  AsyncApiOptions,
  AsyncApiSchema,
  AsyncApiServer,
} from './asyncapi/asyncapi.interfaces';

export * from './mqtt-client-options';
export * from './mqtt-config.constants';
export * from './mqtt-config.decorators';
export * from './mqtt-config.dto';
export * from './mqtt-config.parse';
export * from './mqtt-config.parsers';
export * from './mqtt-config.suggest';
export * as mqttConfigMessages from './mqtt-config.messages';
export { MqttConfigError, type MqttConfigIssue } from '../errors/mqtt-config.error';

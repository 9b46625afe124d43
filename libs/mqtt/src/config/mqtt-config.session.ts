import { randomBytes } from 'node:crypto';
import type { MqttConfig } from '../interfaces/mqtt-config.interface';
import {
  MQTT_CLIENT_ID_PREFIX,
  MQTT_SESSION_NEVER_EXPIRES,
  MQTT_V31_MAX_CLIENT_ID_LENGTH,
  MQTT_WILL_KEYS,
} from './mqtt-config.constants';
import * as messages from './mqtt-config.messages';
import type { MqttConfigReader } from './mqtt-config.reader';

/** The client id, as set or generated. */
export interface MqttResolvedClientId {
  readonly clientId: string;
  /** Whether the id was generated (MQTT_CLIENT_ID unset). */
  readonly clientIdGenerated: boolean;
}

/** Reads the username and password; before MQTTv5 a password needs a username. */
export function resolveCredentials(reader: MqttConfigReader): {
  username?: string;
  password?: string;
} {
  const username = reader.get<string>('MQTT_USERNAME');
  const password = reader.get<string>('MQTT_PASSWORD');
  if (
    password !== undefined &&
    username === undefined &&
    reader.valueOf<3 | 4 | 5>('MQTT_PROTOCOL_VERSION') < 5 &&
    !reader.bad('MQTT_USERNAME') &&
    !reader.bad('MQTT_PROTOCOL_VERSION')
  ) {
    reader.issue('MQTT_PASSWORD', messages.passwordWithoutUsername());
  }
  return { username, password };
}

/**
 * Gives MQTT_CLIENT_ID, or a new random id when it is unset. Warns of a persistent
 * session under a generated id, and of an id too long for MQTTv3.1.
 */
export function resolveClientId(reader: MqttConfigReader): MqttResolvedClientId {
  const clientIdSetting = reader.get<string>('MQTT_CLIENT_ID');
  const clientIdGenerated = clientIdSetting === undefined;
  const clientId = clientIdSetting ?? `${MQTT_CLIENT_ID_PREFIX}${randomBytes(6).toString('hex')}`;
  if (!reader.bad('MQTT_CLIENT_ID')) {
    if (!reader.valueOf<boolean>('MQTT_CLEAN_SESSION') && clientIdGenerated) {
      reader.warn(messages.persistentSessionWithoutClientId());
    }
    const bytes = Buffer.byteLength(clientId, 'utf8');
    const protocolVersion = reader.valueOf<3 | 4 | 5>('MQTT_PROTOCOL_VERSION');
    if (protocolVersion === 3 && bytes > MQTT_V31_MAX_CLIENT_ID_LENGTH) {
      reader.warn(messages.clientIdLongForV31(bytes, clientIdGenerated));
    }
  }
  return { clientId, clientIdGenerated };
}

/** The last will, when MQTT_LAST_WILL_TOPIC is set; else warns of the will keys set without it. */
export function resolveWill(reader: MqttConfigReader): MqttConfig['will'] {
  const topic = reader.get<string>('MQTT_LAST_WILL_TOPIC');
  if (topic !== undefined) {
    return {
      topic,
      payload: toPayload(reader.get<string | number | Buffer>('MQTT_LAST_WILL_MESSAGE')),
      qos: reader.valueOf<0 | 1 | 2>('MQTT_LAST_WILL_QOS'),
      retain: reader.valueOf<boolean>('MQTT_LAST_WILL_RETAIN'),
    };
  }
  if (!reader.bad('MQTT_LAST_WILL_TOPIC')) {
    const orphans = MQTT_WILL_KEYS.filter((key) => reader.changed(key));
    if (orphans.length > 0) reader.warn(messages.willKeysWithoutTopic(orphans));
  }
  return undefined;
}

/**
 * The session expiry interval in seconds: 0 before MQTTv5; by default 0 with a clean
 * session and "never" without. Warns when MQTT_SESSION_EXPIRY contradicts the session.
 */
export function resolveSessionExpiry(reader: MqttConfigReader): number {
  const protocolVersion = reader.valueOf<3 | 4 | 5>('MQTT_PROTOCOL_VERSION');
  const cleanSession = reader.valueOf<boolean>('MQTT_CLEAN_SESSION');
  const expirySetting = reader.get<number>('MQTT_SESSION_EXPIRY');
  if (expirySetting !== undefined && !reader.bad('MQTT_PROTOCOL_VERSION')) {
    if (protocolVersion !== 5) reader.warn(messages.sessionExpiryNeedsV5());
    else if (cleanSession && expirySetting > 0) {
      reader.warn(messages.sessionExpiryWithCleanSession(expirySetting));
    } else if (!cleanSession && expirySetting === 0) {
      reader.warn(messages.sessionExpiryZeroWithPersistentSession());
    }
  }
  if (protocolVersion !== 5) return 0;
  return expirySetting ?? (cleanSession ? 0 : MQTT_SESSION_NEVER_EXPIRES);
}

/** Warns when MQTT_CONNECT_IN_BACKGROUND is on but reconnecting is off. */
export function checkReconnect(reader: MqttConfigReader): void {
  if (
    reader.valueOf<boolean>('MQTT_CONNECT_IN_BACKGROUND') &&
    reader.valueOf<number>('MQTT_RECONNECT_PERIOD') === 0 &&
    !reader.bad('MQTT_RECONNECT_PERIOD')
  ) {
    reader.warn(messages.backgroundWithoutReconnect());
  }
}

function toPayload(message: string | number | Buffer | undefined): Buffer {
  if (message === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(message)) return message;
  return Buffer.from(String(message), 'utf8');
}

import type { MqttConfigInput } from '../interfaces/mqtt-config.interface';
import {
  MQTT_INT_RANGES,
  MQTT_MAX_STRING_BYTES,
  MQTT_SECONDS_RANGES,
  MQTT_TRANSPORTS,
} from './mqtt-config.constants';
import {
  IsBrokerUrl,
  IsCertReqs,
  IsEnvBoolean,
  IsEnvInt,
  IsEnvSeconds,
  IsEnvString,
  IsOneOf,
  IsProtocolVersion,
  IsSharedGroup,
  IsTlsVersion,
  IsTopicName,
  IsWillPayload,
  IsWsPath,
} from './mqtt-config.decorators';

/**
 * The `MQTT_*` keys as class-validator sees them, one property per key. Each
 * decorator accepts both env strings and native values, treats an empty or blank
 * string as unset, and reports its own message (never the password's value).
 * Use it the @nestjs/config way: `validateSync(plainToInstance(MqttConfigDto, record))`,
 * without `enableImplicitConversion` (which would turn the string "false" into true).
 * The rules across keys are checked afterwards by `parseMqttConfig`.
 */
export class MqttConfigDto implements MqttConfigInput {
  /** Client id; kept as given, at most 65535 bytes. Unset: a random id. */
  @IsEnvString({ maxBytes: MQTT_MAX_STRING_BYTES })
  MQTT_CLIENT_ID?: string;

  /** Host name or mqtt/mqtts/ws/wss URL. @default 'localhost' */
  @IsBrokerUrl()
  MQTT_BROKER_URL?: string;

  /** Broker port, 1-65535. @default 1883 */
  @IsEnvInt(...MQTT_INT_RANGES.MQTT_BROKER_PORT)
  MQTT_BROKER_PORT?: number | string;

  /** User name; kept as given. */
  @IsEnvString()
  MQTT_USERNAME?: string;

  /** Password; kept as given, never shown. */
  @IsEnvString({ secret: true })
  MQTT_PASSWORD?: string;

  /** Keepalive in seconds, 0-65535. @default 60 */
  @IsEnvInt(...MQTT_INT_RANGES.MQTT_KEEPALIVE)
  MQTT_KEEPALIVE?: number | string;

  /** Connect with TLS. @default false */
  @IsEnvBoolean()
  MQTT_TLS_ENABLED?: boolean | string;

  /** Path of the CA bundle (PEM). */
  @IsEnvString({ trim: true })
  MQTT_TLS_CA_CERTS?: string;

  /** Path of the client certificate (PEM). */
  @IsEnvString({ trim: true })
  MQTT_TLS_CERTFILE?: string;

  /** Path of the client private key (PEM). */
  @IsEnvString({ trim: true })
  MQTT_TLS_KEYFILE?: string;

  /** CERT_REQUIRED, CERT_OPTIONAL or CERT_NONE. @default 'CERT_REQUIRED' */
  @IsCertReqs()
  MQTT_TLS_CERT_REQS?: string;

  /** TLSv1.2, TLSv1.3, ... Unset: Node's default. */
  @IsTlsVersion()
  MQTT_TLS_VERSION?: string;

  /** OpenSSL cipher list. */
  @IsEnvString({ trim: true })
  MQTT_TLS_CIPHERS?: string;

  /** Skip the host name check. @default false */
  @IsEnvBoolean()
  MQTT_TLS_INSECURE?: boolean | string;

  /** Topic of the last will. */
  @IsTopicName()
  MQTT_LAST_WILL_TOPIC?: string;

  /** Payload of the will. @default '' */
  @IsWillPayload()
  MQTT_LAST_WILL_MESSAGE?: string | number | Buffer;

  /** QoS of the will, 0-2. @default 0 */
  @IsEnvInt(...MQTT_INT_RANGES.MQTT_LAST_WILL_QOS)
  MQTT_LAST_WILL_QOS?: number | string;

  /** Retain the will. @default false */
  @IsEnvBoolean()
  MQTT_LAST_WILL_RETAIN?: boolean | string;

  /** 'tcp' or 'websockets'. @default 'tcp' */
  @IsOneOf(MQTT_TRANSPORTS)
  MQTT_TRANSPORT?: string;

  /** MQTTv31, MQTTv311, MQTTv5 or 3, 4, 5. @default 'MQTTv311' */
  @IsProtocolVersion()
  MQTT_PROTOCOL_VERSION?: string | number;

  /** Start a clean session. @default true */
  @IsEnvBoolean()
  MQTT_CLEAN_SESSION?: boolean | string;

  /** MQTT 5 Session Expiry Interval in seconds, 0-4294967295. @default 0 or 4294967295 (see MQTT_CLEAN_SESSION) */
  @IsEnvInt(...MQTT_INT_RANGES.MQTT_SESSION_EXPIRY)
  MQTT_SESSION_EXPIRY?: number | string;

  /** Seconds to wait for CONNACK, 1-3600. @default 5 */
  @IsEnvInt(...MQTT_INT_RANGES.MQTT_CONNECTION_TIMEOUT)
  MQTT_CONNECTION_TIMEOUT?: number | string;

  /** Seconds between reconnect attempts, 0-86400. @default 1 */
  @IsEnvInt(...MQTT_INT_RANGES.MQTT_RECONNECT_PERIOD)
  MQTT_RECONNECT_PERIOD?: number | string;

  /** Longest wait between reconnect attempts, seconds, 0-86400. @default 30 */
  @IsEnvInt(...MQTT_INT_RANGES.MQTT_RECONNECT_MAX_PERIOD)
  MQTT_RECONNECT_MAX_PERIOD?: number | string;

  /** Websocket path. @default '/mqtt' */
  @IsWsPath()
  MQTT_WS_PATH?: string;

  /** Connect in the background. @default false */
  @IsEnvBoolean()
  MQTT_CONNECT_IN_BACKGROUND?: boolean | string;

  /** Shared-subscription group. */
  @IsSharedGroup()
  MQTT_SHARED_GROUP?: string;

  /** Dead-letter topic. */
  @IsTopicName()
  MQTT_DEAD_LETTER_TOPIC?: string;

  /** Seconds to wait for in-flight handlers on shutdown, 0-3600. @default 10 */
  @IsEnvInt(...MQTT_INT_RANGES.MQTT_SHUTDOWN_TIMEOUT)
  MQTT_SHUTDOWN_TIMEOUT?: number | string;

  /** Seconds a handler call may take, fractions allowed, 0: no limit. @default 30 */
  @IsEnvSeconds(...MQTT_SECONDS_RANGES.MQTT_HANDLER_TIMEOUT)
  MQTT_HANDLER_TIMEOUT?: number | string;

  /** QoS 0 messages that may wait per busy handler. @default 1000 */
  @IsEnvInt(...MQTT_INT_RANGES.MQTT_QOS0_QUEUE_LIMIT)
  MQTT_QOS0_QUEUE_LIMIT?: number | string;

  /** Publishes that may wait while offline. @default 1000 */
  @IsEnvInt(...MQTT_INT_RANGES.MQTT_OFFLINE_QUEUE_LIMIT)
  MQTT_OFFLINE_QUEUE_LIMIT?: number | string;

  /** Seconds `publish()` waits for the broker, fractions allowed, 0: no limit. @default 0 */
  @IsEnvSeconds(...MQTT_SECONDS_RANGES.MQTT_PUBLISH_TIMEOUT)
  MQTT_PUBLISH_TIMEOUT?: number | string;
}

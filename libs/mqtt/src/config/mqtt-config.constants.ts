import type { MqttCertReqs, MqttConfigInput } from '../interfaces/mqtt-config.interface';

/** Name of one of the `MQTT_*` configuration keys. */
export type MqttConfigKey = keyof MqttConfigInput;

export {
  MQTT_CONFIG_KEY_TABLE,
  MQTT_CONFIG_KEYS,
  type MqttConfigKeyInfo,
} from './mqtt-config.key-table';

/** The MQTT 5 Session Expiry Interval that means "never expires". */
export const MQTT_SESSION_NEVER_EXPIRES = 4294967295;

/** Whole-number ranges (inclusive), in the key's own unit. */
export const MQTT_INT_RANGES = Object.freeze({
  MQTT_BROKER_PORT: [1, 65535],
  MQTT_KEEPALIVE: [0, 65535],
  MQTT_LAST_WILL_QOS: [0, 2],
  MQTT_CONNECTION_TIMEOUT: [1, 3600],
  MQTT_RECONNECT_PERIOD: [0, 86400],
  MQTT_SHUTDOWN_TIMEOUT: [0, 3600],
  MQTT_SESSION_EXPIRY: [0, 4294967295],
  MQTT_MAX_QOS: [0, 2],
  MQTT_RECONNECT_MAX_PERIOD: [0, 86400],
  MQTT_OFFLINE_QUEUE_LIMIT: [0, 10_000_000],
  MQTT_QOS0_QUEUE_LIMIT: [1, 10_000_000],
} as const satisfies Partial<Record<MqttConfigKey, readonly [number, number]>>);

/** Ranges (inclusive) of the keys in seconds that take fractions, e.g. `0.5`. */
export const MQTT_SECONDS_RANGES = Object.freeze({
  MQTT_PUBLISH_TIMEOUT: [0, 86400],
  MQTT_HANDLER_TIMEOUT: [0, 86400],
} as const satisfies Partial<Record<MqttConfigKey, readonly [number, number]>>);

/** Accepted values of `MQTT_TRANSPORT` (case-insensitive). */
export const MQTT_TRANSPORTS = Object.freeze(['tcp', 'websockets'] as const);
/** A transport, as `MQTT_TRANSPORT` names it. */
export type MqttTransport = (typeof MQTT_TRANSPORTS)[number];

/** URL schemes accepted in `MQTT_BROKER_URL`, with the port each one implies. */
export const MQTT_SCHEME_PORTS = Object.freeze({
  mqtt: 1883,
  mqtts: 8883,
  ws: 80,
  wss: 443,
} as const);
/** A broker URL scheme. */
export type MqttScheme = keyof typeof MQTT_SCHEME_PORTS;

/** Prefix of generated client ids; 12 random hex characters follow it. */
export const MQTT_CLIENT_ID_PREFIX = 'nestjs-mqtt-';
/** Longest UTF-8 string MQTT can carry (client id, topic, will payload): 65535 bytes. */
export const MQTT_MAX_STRING_BYTES = 65535;
/** Longest client id an MQTT 3.1 broker has to accept. */
export const MQTT_V31_MAX_CLIENT_ID_LENGTH = 23;

/** Accepted names of `MQTT_TLS_CERT_REQS`, with Python's `ssl` numbers. */
export const MQTT_CERT_REQS_NUMBERS = Object.freeze({
  CERT_NONE: 0,
  CERT_OPTIONAL: 1,
  CERT_REQUIRED: 2,
} as const satisfies Record<MqttCertReqs, number>);

/** Keys only read when TLS is on. */
export const MQTT_TLS_KEYS = Object.freeze([
  'MQTT_TLS_CA_CERTS',
  'MQTT_TLS_CERTFILE',
  'MQTT_TLS_KEYFILE',
  'MQTT_TLS_CERT_REQS',
  'MQTT_TLS_VERSION',
  'MQTT_TLS_CIPHERS',
  'MQTT_TLS_INSECURE',
] as const satisfies readonly MqttConfigKey[]);

/** Keys that describe the last will, other than its topic. */
export const MQTT_WILL_KEYS = Object.freeze([
  'MQTT_LAST_WILL_MESSAGE',
  'MQTT_LAST_WILL_QOS',
  'MQTT_LAST_WILL_RETAIN',
] as const satisfies readonly MqttConfigKey[]);

/** Keys that Flask-MQTT once had and that are now ignored, with the key to use instead. */
export const MQTT_REMOVED_KEYS = Object.freeze({
  MQTT_REFRESH_TIME: 'MQTT_RECONNECT_PERIOD',
} as const satisfies Record<string, MqttConfigKey>);

/** Prefix shared by every configuration key; other keys are ignored. */
export const MQTT_KEY_PREFIX = 'MQTT_';

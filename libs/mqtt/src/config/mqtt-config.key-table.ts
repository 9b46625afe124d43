import type { MqttConfigKey } from './mqtt-config.constants';

/** One row of the configuration key table (it also drives the README table). */
export interface MqttConfigKeyInfo {
  /** The default in the key's own unit, or `undefined` when the key has no default. */
  readonly default: string | number | boolean | undefined;
  /** What happens when the key is unset, for keys without a plain default value. */
  readonly whenUnset?: string;
  /** One-line description for the README. */
  readonly description: string;
  /** The value is trimmed of surrounding white space before use. */
  readonly trimmed: boolean;
  /** The value is a secret: never printed, logged or put in an error message. */
  readonly secret?: boolean;
}

/**
 * Every `MQTT_*` key, in README order, with its default. Numbers are in the key's
 * own unit (seconds for the timeouts).
 */
export const MQTT_CONFIG_KEY_TABLE = deepFreeze({
  MQTT_CLIENT_ID: {
    default: undefined,
    whenUnset: 'a random id: `nestjs-mqtt-` and 12 hex characters',
    description: 'Client id the broker sees; kept exactly as given (at most 65535 bytes).',
    trimmed: false,
  },
  MQTT_BROKER_URL: {
    default: 'localhost',
    description:
      'Host name, IPv4 or [IPv6] address, or a URL mqtt://, mqtts://, ws:// or wss:// (the scheme sets transport, TLS, port and websocket path); or a comma-separated list of them (entries may be `host:port`) to fail over between.',
    trimmed: true,
  },
  MQTT_BROKER_PORT: {
    default: 1883,
    whenUnset: "the URL's port, else the scheme's port (1883, 8883, 80, 443), else 1883",
    description: 'Broker port, 1-65535.',
    trimmed: true,
  },
  MQTT_USERNAME: {
    default: undefined,
    whenUnset: 'no authentication',
    description: 'User name.',
    trimmed: false,
  },
  MQTT_PASSWORD: {
    default: undefined,
    whenUnset: 'no password',
    description: 'Password; needs MQTT_USERNAME on MQTT 3.x. Never printed.',
    trimmed: false,
    secret: true,
  },
  MQTT_KEEPALIVE: {
    default: 60,
    description: 'Keepalive in seconds, 0-65535 (0: off).',
    trimmed: true,
  },
  MQTT_TLS_ENABLED: {
    default: false,
    description: 'Connect with TLS (implied by mqtts:// and wss:// URLs).',
    trimmed: true,
  },
  MQTT_TLS_CA_CERTS: {
    default: undefined,
    whenUnset: "the system trust store (Node's CA list)",
    description: 'Path of the CA bundle (PEM).',
    trimmed: true,
  },
  MQTT_TLS_CERTFILE: {
    default: undefined,
    whenUnset: 'no client certificate',
    description: 'Path of the client certificate (PEM); needs MQTT_TLS_KEYFILE.',
    trimmed: true,
  },
  MQTT_TLS_KEYFILE: {
    default: undefined,
    whenUnset: 'no client key',
    description: 'Path of the client private key (PEM); needs MQTT_TLS_CERTFILE.',
    trimmed: true,
  },
  MQTT_TLS_CERT_REQS: {
    default: 'CERT_REQUIRED',
    description:
      'CERT_REQUIRED, CERT_OPTIONAL (same as required for a client) or CERT_NONE (no verification).',
    trimmed: true,
  },
  MQTT_TLS_VERSION: {
    default: undefined,
    whenUnset: "Node's secure default (TLS 1.2 or newer)",
    description: 'Pin one TLS version: TLSv1.2, TLSv1.3 (TLSv1 and TLSv1.1 are insecure).',
    trimmed: true,
  },
  MQTT_TLS_CIPHERS: {
    default: undefined,
    whenUnset: "Node's default cipher list",
    description: 'OpenSSL cipher list.',
    trimmed: true,
  },
  MQTT_TLS_INSECURE: {
    default: false,
    description: "Skip the check of the broker's host name against its certificate (unsafe).",
    trimmed: true,
  },
  MQTT_LAST_WILL_TOPIC: {
    default: undefined,
    whenUnset: 'no last will',
    description: 'Topic of the last will (no wildcards).',
    trimmed: false,
  },
  MQTT_LAST_WILL_MESSAGE: {
    default: '',
    description: 'Payload of the will; a number is sent as its decimal text.',
    trimmed: false,
  },
  MQTT_LAST_WILL_QOS: {
    default: 0,
    description: 'QoS of the will, 0-2.',
    trimmed: true,
  },
  MQTT_LAST_WILL_RETAIN: {
    default: false,
    description: 'Retain the will.',
    trimmed: true,
  },
  MQTT_TRANSPORT: {
    default: 'tcp',
    description: "'tcp' or 'websockets'.",
    trimmed: true,
  },
  MQTT_PROTOCOL_VERSION: {
    default: 'MQTTv311',
    description: 'MQTTv31, MQTTv311 or MQTTv5 (or 3, 4, 5).',
    trimmed: true,
  },
  MQTT_CLEAN_SESSION: {
    default: true,
    description: 'Start a clean session.',
    trimmed: true,
  },
  MQTT_SESSION_EXPIRY: {
    default: undefined,
    whenUnset:
      '0 with MQTT_CLEAN_SESSION=true; 4294967295 (never expires) with MQTT_CLEAN_SESSION=false',
    description:
      'MQTT 5 Session Expiry Interval: seconds the broker keeps the session after the connection closes, 0-4294967295 (4294967295: never). Ignored on MQTT 3.x, where the broker decides.',
    trimmed: true,
  },
  MQTT_CONNECTION_TIMEOUT: {
    default: 5,
    description: "Seconds to wait for the broker's CONNACK, 1-3600.",
    trimmed: true,
  },
  MQTT_RECONNECT_PERIOD: {
    default: 1,
    description:
      'Seconds before the first reconnect attempt, 0-86400 (0: never reconnect); later attempts back off exponentially, with jitter, up to MQTT_RECONNECT_MAX_PERIOD.',
    trimmed: true,
  },
  MQTT_RECONNECT_MAX_PERIOD: {
    default: 30,
    description: 'Longest wait between reconnect attempts, in seconds, 0-86400.',
    trimmed: true,
  },
  MQTT_WS_PATH: {
    default: '/mqtt',
    description: 'Path of the websocket endpoint (ws/wss only).',
    trimmed: true,
  },
  MQTT_CONNECT_IN_BACKGROUND: {
    default: false,
    description:
      'Start the app even when the broker cannot be reached, and connect in the background.',
    trimmed: true,
  },
  MQTT_SHARED_GROUP: {
    default: undefined,
    whenUnset: 'no shared subscriptions',
    description: 'Shared-subscription group for every @Subscribe handler without its own `share`.',
    trimmed: false,
  },
  MQTT_DEAD_LETTER_TOPIC: {
    default: undefined,
    whenUnset: 'failed messages are only logged',
    description: 'Topic to which a message whose handler failed is republished.',
    trimmed: false,
  },
  MQTT_SHUTDOWN_TIMEOUT: {
    default: 10,
    description: 'Seconds `app.close()` waits for running handlers, 0-3600.',
    trimmed: true,
  },
  MQTT_HANDLER_TIMEOUT: {
    default: 30,
    description:
      'Seconds a handler call may take (fractions allowed, 0: no limit); past it the message counts as failed (logged, dead-lettered, acknowledged).',
    trimmed: true,
  },
  MQTT_QOS0_QUEUE_LIMIT: {
    default: 1000,
    description:
      'QoS 0 messages that may wait per busy handler, 1-10000000; past it they are dropped for that handler (counted and logged).',
    trimmed: true,
  },
  MQTT_OFFLINE_QUEUE_LIMIT: {
    default: 1000,
    description:
      'Publishes that may wait while the connection is down, 0-10000000; past it `publish()` rejects.',
    trimmed: true,
  },
  MQTT_PUBLISH_TIMEOUT: {
    default: 0,
    description:
      'Seconds `publish()` waits for the broker before it rejects (fractions allowed, 0: no limit).',
    trimmed: true,
  },
  MQTT_MAX_QOS: {
    default: 2,
    description:
      'Highest QoS the broker supports (NATS: 1): a publish above it is refused with an error instead of the broker dropping the connection.',
    trimmed: true,
  },
  MQTT_PROBE_SHARED: {
    default: false,
    description:
      'At bootstrap, check that `$share/...` subscriptions deliver (publish a probe message through one); fail the bootstrap if the broker does not (MQTT 3.1.1 brokers cannot say so).',
    trimmed: true,
  },
} as const satisfies Record<MqttConfigKey, MqttConfigKeyInfo>);

/** Every `MQTT_*` key this library reads, in README order. */
export const MQTT_CONFIG_KEYS: readonly MqttConfigKey[] = Object.freeze(
  Object.keys(MQTT_CONFIG_KEY_TABLE) as MqttConfigKey[],
);

function deepFreeze<T extends object>(value: T): T {
  for (const inner of Object.values(value)) {
    if (inner !== null && typeof inner === 'object') deepFreeze(inner as object);
  }
  return Object.freeze(value);
}

/**
 * The MQTT_* keys, as an app gives them: from the environment (strings) or in
 * `forRoot()` options (strings or native values). Every key is optional; the
 * defaults are those of Flask-MQTT unless the README says otherwise.
 */
export interface MqttConfigInput {
  /** Client id the broker sees. Empty or unset: a random id is generated. */
  MQTT_CLIENT_ID?: string;
  /** Host name, or a URL with scheme mqtt://, mqtts://, ws:// or wss://. @default 'localhost' */
  MQTT_BROKER_URL?: string;
  /** Broker port, 1-65535. @default 1883 */
  MQTT_BROKER_PORT?: number | string;
  /** User name. Unset: no authentication. */
  MQTT_USERNAME?: string;
  /** Password; needs MQTT_USERNAME on MQTT 3.x. Never printed or logged. */
  MQTT_PASSWORD?: string;
  /** Keepalive in seconds, 0-65535. @default 60 */
  MQTT_KEEPALIVE?: number | string;
  /** Connect with TLS. @default false */
  MQTT_TLS_ENABLED?: boolean | string;
  /** Path of the CA bundle (PEM). Unset: the system trust store. */
  MQTT_TLS_CA_CERTS?: string;
  /** Path of the client certificate (PEM), for mutual TLS. */
  MQTT_TLS_CERTFILE?: string;
  /** Path of the client private key (PEM); needs MQTT_TLS_CERTFILE. */
  MQTT_TLS_KEYFILE?: string;
  /** CERT_REQUIRED, CERT_OPTIONAL or CERT_NONE. @default 'CERT_REQUIRED' */
  MQTT_TLS_CERT_REQS?: string;
  /** TLS version to use (TLSv1.2, TLSv1.3, ...). Unset: Node's secure default (TLS 1.2 or newer). */
  MQTT_TLS_VERSION?: string;
  /** OpenSSL cipher list. Unset: Node's defaults. */
  MQTT_TLS_CIPHERS?: string;
  /** Skip the broker host name check (logs a warning). @default false */
  MQTT_TLS_INSECURE?: boolean | string;
  /** Topic of the last will. Unset: no will. */
  MQTT_LAST_WILL_TOPIC?: string;
  /** Payload of the will; a number is sent as its decimal text. @default '' */
  MQTT_LAST_WILL_MESSAGE?: string | number | Buffer;
  /** QoS of the will, 0-2. @default 0 */
  MQTT_LAST_WILL_QOS?: number | string;
  /** Retain the will. @default false */
  MQTT_LAST_WILL_RETAIN?: boolean | string;
  /** 'tcp' or 'websockets'. @default 'tcp' */
  MQTT_TRANSPORT?: string;
  /** MQTTv31, MQTTv311 or MQTTv5 (or 3, 4, 5). @default 'MQTTv311' */
  MQTT_PROTOCOL_VERSION?: string | number;
  /** Start a clean session. @default true */
  MQTT_CLEAN_SESSION?: boolean | string;
  /**
   * MQTT 5 Session Expiry Interval: seconds the broker keeps the session after the connection
   * closes, 0-4294967295 (4294967295: never expires). Ignored on MQTT 3.x.
   * @default 0 with MQTT_CLEAN_SESSION=true, 4294967295 with MQTT_CLEAN_SESSION=false
   */
  MQTT_SESSION_EXPIRY?: number | string;
  /** Seconds to wait for the broker's CONNACK. @default 5 */
  MQTT_CONNECTION_TIMEOUT?: number | string;
  /** Seconds between reconnect attempts; 0 turns reconnecting off. @default 1 */
  MQTT_RECONNECT_PERIOD?: number | string;
  /** Path of the websocket endpoint. @default '/mqtt' */
  MQTT_WS_PATH?: string;
  /** Start the app even when the broker cannot be reached, and connect in the background. @default false */
  MQTT_CONNECT_IN_BACKGROUND?: boolean | string;
  /** Shared-subscription group for every @Subscribe handler without its own `share`. Unset: none. */
  MQTT_SHARED_GROUP?: string;
  /** Topic to which a message whose handler failed is republished. Unset: none. */
  MQTT_DEAD_LETTER_TOPIC?: string;
  /** Seconds `app.close()` waits for running handlers before disconnecting. @default 10 */
  MQTT_SHUTDOWN_TIMEOUT?: number | string;
  /** Longest wait between reconnect attempts (exponential backoff with jitter), seconds. @default 30 */
  MQTT_RECONNECT_MAX_PERIOD?: number | string;
  /** Seconds a handler call may take (fractions allowed); 0: no limit. @default 30 */
  MQTT_HANDLER_TIMEOUT?: number | string;
  /** QoS 0 messages that may wait per busy handler; past it they are dropped. @default 1000 */
  MQTT_QOS0_QUEUE_LIMIT?: number | string;
  /** Publishes that may wait while the connection is down; past it publish() rejects. @default 1000 */
  MQTT_OFFLINE_QUEUE_LIMIT?: number | string;
  /** Seconds publish() waits for the broker's acknowledgement (fractions allowed); 0: no limit. @default 0 */
  MQTT_PUBLISH_TIMEOUT?: number | string;
}

/** TLS certificate requirement imposed on the broker. */
export type MqttCertReqs = 'CERT_REQUIRED' | 'CERT_OPTIONAL' | 'CERT_NONE';
/** TLS protocol versions, as Node names them. */
export type MqttTlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** The validated configuration, with every default applied. */
export interface MqttConfig {
  clientId: string;
  /** True when the client id was generated because none was given. */
  clientIdGenerated: boolean;
  protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss';
  host: string;
  port: number;
  /** Websocket path (only for ws/wss). */
  wsPath: string;
  username?: string;
  password?: string;
  keepalive: number;
  tls: {
    enabled: boolean;
    caCerts?: string;
    certfile?: string;
    keyfile?: string;
    certReqs: MqttCertReqs;
    version?: MqttTlsVersion;
    ciphers?: string;
    insecure: boolean;
  };
  will?: { topic: string; payload: Buffer; qos: 0 | 1 | 2; retain: boolean };
  protocolVersion: 3 | 4 | 5;
  cleanSession: boolean;
  /** MQTT 5 Session Expiry Interval in seconds (4294967295: never); sent when above 0. */
  sessionExpiry: number;
  /** Milliseconds. */
  connectionTimeout: number;
  /** Milliseconds; 0 means no reconnect. */
  reconnectPeriod: number;
  connectInBackground: boolean;
  sharedGroup?: string;
  deadLetterTopic?: string;
  /** Milliseconds. */
  shutdownTimeout: number;
  /** Milliseconds: the cap of the reconnect backoff. */
  reconnectMaxPeriod: number;
  /** Milliseconds; 0 means no limit. */
  handlerTimeout: number;
  qos0QueueLimit: number;
  offlineQueueLimit: number;
  /** Milliseconds; 0 means no limit. */
  publishTimeout: number;
}

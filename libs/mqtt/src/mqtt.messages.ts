/** Every text the module logs or throws outside configuration, one function each. */

export const CONNECTING = (url: string, clientId: string) =>
  `Connecting to ${url} as client id "${clientId}"`;
export const CONNECTED = (url: string, sessionPresent: boolean) =>
  `Connected to ${url}${sessionPresent ? ' (session resumed)' : ''}`;
export const RECONNECTING = (url: string, attempt: number) =>
  `Reconnecting to ${url} (attempt ${attempt})`;
export const OFFLINE = (url: string, reconnectMs: number) =>
  reconnectMs > 0
    ? `Connection to ${url} lost; retrying every ${reconnectMs / 1000} s, publishes are queued meanwhile`
    : `Connection to ${url} lost; MQTT_RECONNECT_PERIOD is 0, so no reconnect will be attempted`;
export const CLIENT_ERROR = (url: string, reason: string) =>
  `MQTT client error (${url}): ${reason}`;
export const CONNECT_IN_BACKGROUND = (url: string, reason: string) =>
  `Could not connect to ${url} (${reason}); starting anyway because MQTT_CONNECT_IN_BACKGROUND is on`;
export const TLS_INSECURE = () =>
  'MQTT_TLS_INSECURE is on: the broker certificate host name is NOT checked. Anyone on the path can impersonate the broker; do not use this in production.';

export const CONNECT_REFUSED = (url: string, reason: string) =>
  `The MQTT broker at ${url} refused the connection: ${reason}. Check MQTT_USERNAME, MQTT_PASSWORD, MQTT_CLIENT_ID and the broker's access rules.`;
export const CONNECT_UNREACHABLE = (hostPort: string, reason: string) =>
  `Cannot reach the MQTT broker at ${hostPort}: ${reason}. Check MQTT_BROKER_URL and MQTT_BROKER_PORT, that the broker runs, or set MQTT_CONNECT_IN_BACKGROUND=true to start without it.`;
export const CONNECT_TLS_FAILED = (hostPort: string, reason: string) =>
  `TLS with the MQTT broker at ${hostPort} failed: ${reason}. Check MQTT_TLS_CA_CERTS (the CA that signed the broker's certificate), MQTT_TLS_CERT_REQS, MQTT_TLS_VERSION, MQTT_TLS_CIPHERS, the client certificate (MQTT_TLS_CERTFILE/MQTT_TLS_KEYFILE) and, for a host name mismatch, MQTT_BROKER_URL.`;
export const SUBACK_TIMEOUT = (hostPort: string, seconds: number) =>
  `The MQTT broker at ${hostPort} accepted the connection but did not acknowledge the subscriptions within ${seconds} s (MQTT_CONNECTION_TIMEOUT). Check the broker's limits and access rules, or raise MQTT_CONNECTION_TIMEOUT.`;
export const CONNECT_TIMEOUT = (hostPort: string, seconds: number) =>
  `No CONNACK from the MQTT broker at ${hostPort} within ${seconds} s (MQTT_CONNECTION_TIMEOUT). Check the address, port, transport and TLS settings, or raise MQTT_CONNECTION_TIMEOUT.`;

export const INVALID_TOPIC = (topic: unknown, problem: string) =>
  `Cannot publish to topic ${JSON.stringify(String(topic)).slice(0, 200)}: it ${problem}.`;
export const INVALID_PAYLOAD = (type: string) =>
  `Cannot publish a payload of type ${type}: use a Buffer, string, number, boolean, or a plain object or array (sent as JSON).`;
export const INVALID_QOS = (qos: unknown) => `Invalid QoS ${String(qos)}: use 0, 1 or 2.`;
export const PUBLISH_FAILED = (topic: string, reason: string) =>
  `Publishing to "${topic}" failed: ${reason}`;
export const OFFLINE_NO_RECONNECT = (topic: string) =>
  `Cannot publish to "${topic}": the connection is lost and MQTT_RECONNECT_PERIOD is 0, so it will not come back. Set MQTT_RECONNECT_PERIOD to reconnect automatically.`;
export const CLIENT_CLOSED = () =>
  'The MQTT client is closed (the application is shutting down); the message was not sent.';
export const INVALID_FILTER = (where: string, filter: string, problem: string) =>
  `Invalid MQTT topic filter ${JSON.stringify(filter)} in ${where}: ${problem}`;
export const INVALID_CONCURRENCY = (handler: string, value: unknown) =>
  `Invalid concurrency ${String(value)} for ${handler}: use a whole number of at least 1.`;
export const SUBSCRIBE_REFUSED = (filter: string, reason: string) =>
  `The broker refused the subscription to "${filter}": ${reason}`;
export const SUBSCRIBE_DOWNGRADED = (filter: string, asked: number, granted: number) =>
  `The broker granted QoS ${granted} instead of ${asked} for "${filter}"`;
export const SUBSCRIBE_FAILED = (filter: string, reason: string) =>
  `Subscribing to "${filter}" failed: ${reason}; it will be retried on the next reconnect`;

export const HANDLER_FAILED = (handler: string, topic: string, reason: string, payload: string) =>
  `Handler ${handler} failed for topic "${topic}": ${reason} (payload: ${payload})`;
export const DEAD_LETTER_FAILED = (topic: string, reason: string) =>
  `Could not republish a failed message to the dead-letter topic "${topic}": ${reason}`;
export const REPLY_FAILED = (handler: string, topic: string, reason: string) =>
  `Could not publish the reply of ${handler} to "${topic}": ${reason}`;
export const REQUEST_NEEDS_V5 = () =>
  'MqttService.request() needs MQTT 5 (response topic and correlation data): set MQTT_PROTOCOL_VERSION=MQTTv5.';
export const REQUEST_TIMEOUT = (topic: string, ms: number) =>
  `No reply to the request on "${topic}" within ${ms} ms`;
export const SHUTDOWN_WAIT = (count: number, seconds: number) =>
  `Waiting up to ${seconds} s for ${count} MQTT handler(s) still running`;
export const SHUTDOWN_TIMEOUT = (count: number) =>
  `${count} MQTT handler(s) still running at shutdown were abandoned (MQTT_SHUTDOWN_TIMEOUT); their QoS 1/2 messages stay unacknowledged and will be redelivered by a persistent session`;
export const UNUSED_TOPIC_PARAM = (handler: string, filter: string, name: string) =>
  `Named wildcard "${name}" in ${JSON.stringify(filter)} of ${handler} is never read by @TopicParam('${name}') or @TopicParams(): remove the name (a plain wildcard is "+" or "#") or read it.`;
export const PARAM_NOT_IN_FILTER = (handler: string, name: string) =>
  `@TopicParam('${name}') of ${handler} names no wildcard of its @Subscribe filters: write the wildcard as "+${name}" or "#${name}".`;
export const REQUEST_SCOPED = (handler: string) =>
  `${handler} is request-scoped or transient; MQTT handlers must live in singleton providers, so it is skipped.`;
export const PAYLOAD_INVALID = (errors: string) => `invalid payload: ${errors}`;
export const PAYLOAD_NOT_JSON = (type: string) => `payload is not valid JSON for ${type}`;
export const BROKER_DISCONNECT = (reasonCode: number, reasonString?: string) =>
  `The broker sent DISCONNECT (reason code ${reasonCode}${reasonString ? `: ${reasonString}` : ''}); reconnecting as MQTT_RECONNECT_PERIOD says`;
export const LISTENER_FAILED = (listener: string, event: string, reason: string) =>
  `Listener ${listener} for the "${event}" event failed: ${reason}`;
export const ASYNC_OPTIONS_MISSING = () =>
  'MqttModule.forRootAsync() needs useFactory, useClass or useExisting (or no argument at all, to read the MQTT_* keys through ConfigService).';

/** Every text the module logs or throws outside configuration, one function each. */

export const CONNECTING = (url: string, clientId: string) =>
  `Connecting to ${url} as client id "${clientId}"`;
export const CONNECTED = (url: string, sessionPresent: boolean) =>
  `Connected to ${url}${sessionPresent ? ' (session resumed)' : ''}`;
export const OFFLINE = (url: string, baseMs: number, capMs: number) =>
  baseMs > 0
    ? `Connection to ${url} lost; reconnecting with backoff (from ${baseMs / 1000} s, doubling up to ${Math.max(baseMs, capMs) / 1000} s), publishes are queued meanwhile`
    : `Connection to ${url} lost; MQTT_RECONNECT_PERIOD is 0, so no reconnect will be attempted`;
export const STILL_OFFLINE = (url: string, ms: number, attempts: number, lastError?: string) =>
  `Still no connection to ${url} after ${Math.round(ms / 1000)} s and ${attempts} attempt(s)${lastError ? `; last error: ${lastError}` : ''}. Publishes stay queued (MQTT_OFFLINE_QUEUE_LIMIT).`;
export const MQTT_JS_CHANGED = (missing: string[]) =>
  `The installed MQTT.js lacks what nestjs-mqtt relies on (${missing.join(', ')}); it was written for mqtt 5.16 and later 5.x. Install a supported mqtt version (see the README).`;
export const CLIENT_ERROR = (url: string, reason: string) =>
  `MQTT client error (${url}): ${reason}`;
export const CONNECT_IN_BACKGROUND = (url: string, reason: string) =>
  `Could not connect to ${url} (${reason}); starting anyway because MQTT_CONNECT_IN_BACKGROUND is on`;

export const CONNECT_REFUSED = (url: string, reason: string) =>
  `The MQTT broker at ${url} refused the connection: ${reason}. Check MQTT_USERNAME, MQTT_PASSWORD, MQTT_CLIENT_ID and the broker's access rules.`;
export const CONNECT_UNREACHABLE = (hostPort: string, reason: string) =>
  `Cannot reach the MQTT broker at ${hostPort}: ${reason}. Check MQTT_BROKER_URL and MQTT_BROKER_PORT, that the broker runs, or set MQTT_CONNECT_IN_BACKGROUND=true to start without it.`;
export const CONNECT_TLS_FAILED = (hostPort: string, reason: string) =>
  `TLS with the MQTT broker at ${hostPort} failed: ${reason}. Check MQTT_TLS_CA_CERTS (the CA that signed the broker's certificate), MQTT_TLS_CERT_REQS, MQTT_TLS_VERSION, MQTT_TLS_CIPHERS, the client certificate (MQTT_TLS_CERTFILE/MQTT_TLS_KEYFILE) and, for a host name mismatch, MQTT_BROKER_URL.`;
export const SUBACK_TIMEOUT = (hostPort: string, seconds: number) =>
  `The MQTT broker at ${hostPort} accepted the connection but did not acknowledge the subscriptions within ${seconds} s (MQTT_CONNECTION_TIMEOUT). Check the broker's limits and access rules, or raise MQTT_CONNECTION_TIMEOUT.`;
export const CONNECT_TIMEOUT = (hostPort: string, seconds: number, lastError?: string) =>
  `No CONNACK from the MQTT broker at ${hostPort} within ${seconds} s (MQTT_CONNECTION_TIMEOUT). Check the address, port, transport and TLS settings, or raise MQTT_CONNECTION_TIMEOUT.${lastError ? ` Last error: ${lastError}.` : ''}`;

export const INVALID_TOPIC = (topic: unknown, problem: string) =>
  `Cannot publish to topic ${JSON.stringify(String(topic)).slice(0, 200)}: it ${problem}.`;
export const INVALID_PAYLOAD = (type: string) =>
  `Cannot publish a payload of type ${type}: use a Buffer, string, number, boolean, or a plain object or array (sent as JSON).`;
export const INVALID_QOS = (qos: unknown) => `Invalid QoS ${String(qos)}: use 0, 1 or 2.`;
export const PUBLISH_FAILED = (topic: string, reason: string) =>
  `Publishing to "${topic}" failed: ${reason}. The message may not have reached the broker: publish it again if it must arrive.`;
export const PUBLISH_REFUSED = (topic: string, reason: string) =>
  `Cannot publish to "${topic}": ${reason}`;
export const OFFLINE_NO_RECONNECT = () =>
  'the connection is lost and MQTT_RECONNECT_PERIOD is 0, so it will not come back. Set MQTT_RECONNECT_PERIOD to reconnect automatically.';
export const OFFLINE_QUEUE_FULL = (topic: string, limit: number) =>
  `Cannot publish to "${topic}": the connection is down and ${limit} publishes already wait for it (MQTT_OFFLINE_QUEUE_LIMIT). Retry later, or raise MQTT_OFFLINE_QUEUE_LIMIT.`;
export const PUBLISH_TIMEOUT = (topic: string, seconds: number) =>
  `Publishing to "${topic}" was not acknowledged within ${seconds} s (MQTT_PUBLISH_TIMEOUT); it stays queued and may still be delivered. Check the connection, or raise MQTT_PUBLISH_TIMEOUT.`;
export const CLIENT_CLOSED = () =>
  'the MQTT client is closed (the application is shutting down), so the message was not sent.';
export const INVALID_FILTER = (where: string, filter: string, problem: string) =>
  `Invalid MQTT topic filter ${JSON.stringify(filter)} in ${where}: ${problem}`;
export const INVALID_CONCURRENCY = (handler: string, value: unknown) =>
  `Invalid concurrency ${String(value)} for ${handler}: use a whole number of at least 1.`;
export const INVALID_TIMEOUT = (handler: string, value: unknown) =>
  `Invalid timeout ${String(value)} for ${handler}: use milliseconds, 0 or more (0: no limit).`;
export const SUBSCRIBE_REFUSED = (filter: string, code: number) =>
  `The broker refused the subscription to "${filter}" (reason code 0x${code.toString(16)}). Check the broker's access rules (ACL) for this client and filter; it is retried on the next reconnect.`;
export const SUBSCRIBE_DOWNGRADED = (filter: string, asked: number, granted: number) =>
  `The broker granted QoS ${granted} instead of ${asked} for "${filter}"`;
export const SUBSCRIBE_FAILED = (filter: string, reason: string) =>
  `Subscribing to "${filter}" failed: ${reason}; it will be retried on the next reconnect`;

export const HANDLER_FAILED = (handler: string, topic: string, reason: string, payload: string) =>
  `Handler ${handler} failed for topic "${topic}": ${reason} (payload: ${payload})`;
export const HANDLER_TIMED_OUT = (ms: number) =>
  `did not settle within ${Math.round(ms)} ms (its timeout option or MQTT_HANDLER_TIMEOUT); the message counts as failed and the handler takes the next one`;
export const QOS0_DROPPED = (handler: string, count: number) =>
  `${count} QoS 0 message(s) for ${handler} dropped: its queue is full (MQTT_QOS0_QUEUE_LIMIT). Make the handler faster, raise its concurrency, or subscribe with QoS 1 so the broker holds them.`;
export const DEAD_LETTER_FAILED = (topic: string, reason: string) =>
  `Could not republish a failed message to the dead-letter topic "${topic}": ${reason}`;
export const REPLY_FAILED = (handler: string, topic: string, reason: string) =>
  `Could not publish the reply of ${handler} to "${topic}": ${reason}`;
export const REQUEST_NEEDS_V5 = () =>
  'MqttService.request() needs MQTT 5 (response topic and correlation data): set MQTT_PROTOCOL_VERSION=MQTTv5.';
export const REQUEST_TIMEOUT = (topic: string, ms: number) =>
  `No reply to the request on "${topic}" within ${ms} ms. Check that a handler answers on that topic (and returns a value), or raise the timeout option.`;
export const SHUTDOWN_WAIT = (count: number, seconds: number) =>
  `Waiting up to ${seconds} s for ${count} MQTT handler(s) still running`;
export const SHUTDOWN_TIMEOUT = (count: number) =>
  `${count} MQTT handler(s) still running at shutdown were abandoned (MQTT_SHUTDOWN_TIMEOUT); their QoS 1/2 messages stay unacknowledged and will be redelivered by a persistent session`;
export const UNUSED_TOPIC_PARAM = (handler: string, filter: string, name: string) =>
  `Named wildcard "${name}" in ${JSON.stringify(filter)} of ${handler} is never read by @TopicParam('${name}') or @TopicParams(): remove the name (a plain wildcard is "+" or "#") or read it.`;
export const PARAM_NOT_IN_FILTER = (handler: string, name: string) =>
  `@TopicParam('${name}') of ${handler} names no wildcard of its @Subscribe filters: write the wildcard as "+${name}" or "#${name}".`;
export const NO_DECORATOR_METADATA = (handler: string) =>
  `${handler} has no decorator metadata, so nothing tells the type of its @Payload() parameter: the payload is decoded as JSON (or text) and not validated. Build with a compiler that emits the metadata (Nest CLI, tsc or SWC with "emitDecoratorMetadata": true; tsx and esbuild do not), or name the type in a pipe: @Payload(new ValidationPipe({ expectedType: SomeDto })).`;
export const REQUEST_SCOPED = (handler: string) =>
  `${handler} is request-scoped or transient; MQTT handlers must live in singleton providers, so it is skipped.`;
export const PAYLOAD_INVALID = (type: string, errors: string) =>
  `invalid payload: ${errors}. It does not fit ${type}: fix the publisher, or the DTO's rules.`;
export const PAYLOAD_NOT_UTF8 = (wanted: string) =>
  `payload is not valid UTF-8, so it cannot be read as ${wanted}: declare the @Payload() parameter as Buffer to receive binary payloads.`;
export const PAYLOAD_NOT_JSON = (type: string) =>
  `payload is not valid JSON for ${type}: the publisher must send a JSON object.`;
export const MISSING_CONNECTION = (handler: string, name: string) =>
  `${handler} subscribes on the MQTT connection "${name}", which no MqttModule.forRoot({ name: '${name}' }) or forRootAsync({ name: '${name}' }) defines. Add that module, or fix the connection option.`;
export const MISSING_CONFIG_KEY = (handler: string, filter: string, key: string) =>
  `${handler} subscribes to ${JSON.stringify(filter)}, whose \${${key}} has no value in the configuration. Set ${key} (environment or .env), or change the filter.`;
export const CONFIG_SERVICE_MISSING = (handler: string, filter: string) =>
  `${handler} subscribes to ${JSON.stringify(filter)}, which reads the configuration, but no ConfigService is available. Import ConfigModule.forRoot() in the root module.`;
export const SUBSCRIBED = (handler: string, filters: string) =>
  `Subscribed ${handler} to ${filters}`;
export const NEST_INTERNALS_CHANGED = (missing: string[]) =>
  `The installed @nestjs/core lacks what nestjs-mqtt relies on (ExternalContextCreator.${missing.join(', ')}); it was written for NestJS 11 and 12. Install a supported NestJS version (see the README).`;
export const BROKER_DISCONNECT = (reasonCode: number, reasonString?: string) =>
  `The broker sent DISCONNECT (reason code ${reasonCode}${reasonString ? `: ${reasonString}` : ''}); reconnecting as MQTT_RECONNECT_PERIOD says`;
export const LISTENER_FAILED = (listener: string, event: string, reason: string) =>
  `Listener ${listener} for the "${event}" event failed: ${reason}`;
export const ASYNC_OPTIONS_MISSING = () =>
  'MqttModule.forRootAsync() needs useFactory, useClass or useExisting (or no argument at all, to read the MQTT_* keys through ConfigService).';

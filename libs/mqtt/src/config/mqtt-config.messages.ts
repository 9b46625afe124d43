/**
 * Every error and warning text of the configuration layer. Values are quoted with
 * `describeValue`; the password and the content of key files never reach these
 * functions.
 */

const MAX_QUOTED_LENGTH = 80;

/**
 * Quotes a configuration value for a message: strings in double quotes (long ones
 * cut, with their length), numbers and booleans as they are, Buffers by size.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= MAX_QUOTED_LENGTH) return JSON.stringify(value);
    const cut = JSON.stringify(value.slice(0, MAX_QUOTED_LENGTH - 1));
    return `${cut.slice(0, -1)}…" (${value.length} characters)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return describeType(value);
}

/** Names the type of a value without showing it: "a number", "an object", ... */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function orList(values: readonly string[]): string {
  return values.length < 2
    ? values.join('')
    : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

// --- one key ------------------------------------------------------------------------------

/** A whole number outside its range, or not a whole number. */
export const notWholeNumber = (key: string, min: number, max: number, value: unknown) =>
  `${key} must be a whole number from ${min} to ${max}, got ${describeValue(value)}.`;

/** A number of seconds outside its range, or not a number. */
export const notSeconds = (key: string, min: number, max: number, value: unknown) =>
  `${key} must be a number of seconds from ${min} to ${max} (fractions allowed, e.g. 0.5), got ${describeValue(value)}.`;

/** A boolean key with another value. */
export const notBoolean = (key: string, value: unknown) =>
  `${key} must be true or false (1/0 and yes/no are accepted too), got ${describeValue(value)}.`;

/** A value outside a fixed list. */
export const notOneOf = (key: string, allowed: readonly string[], value: unknown) =>
  `${key} must be ${orList(allowed.map((a) => JSON.stringify(a)))}, got ${describeValue(value)}.`;

/** A string key with a value of another type; a secret's value is not shown. */
export const notString = (key: string, value: unknown, secret = false) =>
  `${key} must be a string, got ${secret ? `${describeType(value)} (value not shown)` : describeValue(value)}.`;

/** A string longer than MQTT can carry. */
export const tooLong = (key: string, bytes: number, max: number, value: unknown) =>
  `${key} is ${bytes} bytes long in UTF-8, but MQTT allows at most ${max} bytes, got ${describeValue(value)}.`;

/** `MQTT_PROTOCOL_VERSION` not recognised. */
export const invalidProtocolVersion = (value: unknown) =>
  `MQTT_PROTOCOL_VERSION must be MQTTv31, MQTTv311 or MQTTv5 (or 3, 4 or 5), got ${describeValue(value)}.`;

/** `MQTT_TLS_CERT_REQS` not recognised. */
export const invalidCertReqs = (value: unknown) =>
  `MQTT_TLS_CERT_REQS must be CERT_REQUIRED, CERT_OPTIONAL or CERT_NONE (an "ssl." prefix and Python's numbers 2, 1 and 0 are accepted too), got ${describeValue(value)}.`;

/** `MQTT_TLS_VERSION` not recognised. */
export const invalidTlsVersion = (value: unknown) =>
  `MQTT_TLS_VERSION must be TLSv1.2, TLSv1.3, TLSv1.1 or TLSv1 (Python's PROTOCOL_TLSv1_2 and the like are accepted too, and PROTOCOL_TLS means "no pinned version"), got ${describeValue(value)}.`;

/** `MQTT_TLS_VERSION` names an SSL version. */
export const sslVersionUnsupported = (value: unknown) =>
  `MQTT_TLS_VERSION asks for ${describeValue(value)}, an SSL version that is broken and that Node does not support: use TLSv1.2 or TLSv1.3, or leave it unset.`;

/** A topic name with wildcards. */
export const topicHasWildcard = (key: string, value: unknown) =>
  `${key} must be a topic name without the wildcards + and #, got ${describeValue(value)}.`;

/** A topic or group name with the NUL character. */
export const hasNulCharacter = (key: string, value: unknown) =>
  `${key} must not contain the NUL character (U+0000), got ${describeValue(value)}.`;

/** `MQTT_SHARED_GROUP` with a character MQTT forbids in share names. */
export const invalidSharedGroup = (value: unknown) =>
  `MQTT_SHARED_GROUP must be a group name without /, + or #, got ${describeValue(value)}.`;

/** `MQTT_WS_PATH` that is not a path. */
export const invalidWsPath = (value: unknown) =>
  `MQTT_WS_PATH must start with "/" and contain no white space, got ${describeValue(value)}.`;

/** `MQTT_LAST_WILL_MESSAGE` of an unusable type. */
export const invalidWillPayload = (value: unknown) =>
  `MQTT_LAST_WILL_MESSAGE must be a string, a finite number or a Buffer, got ${describeValue(value)}.`;

// --- MQTT_BROKER_URL (the value shown has any user info replaced by ***) ---------------------

/** A URL scheme other than mqtt, mqtts, ws and wss. */
export const brokerUrlScheme = (scheme: string, shown: string) =>
  `MQTT_BROKER_URL has the scheme "${scheme}://", which is not supported: use mqtt://, mqtts://, ws:// or wss://, or a bare host name, got ${JSON.stringify(shown)}.`;

/** A URL with a user name or password. */
export const brokerUrlCredentials = (shown: string) =>
  `MQTT_BROKER_URL must not contain a user name or password: put them in MQTT_USERNAME / MQTT_PASSWORD, got ${JSON.stringify(shown)} (credentials hidden).`;

/** A URL or host that cannot be parsed. */
export const brokerUrlInvalid = (shown: string) =>
  `MQTT_BROKER_URL must be a host name, an IP address or a URL such as mqtts://broker.example.com:8883, got ${JSON.stringify(shown)}.`;

/** `host:port` without a scheme. */
export const brokerUrlPortWithoutScheme = (shown: string, host: string, port: string) =>
  `MQTT_BROKER_URL has a port but no scheme: write mqtt://${host}:${port} (or mqtts://, ws://, wss://), or put the port in MQTT_BROKER_PORT, got ${JSON.stringify(shown)}.`;

/** A URL whose port is not 1-65535. */
export const brokerUrlPort = (shown: string) =>
  `MQTT_BROKER_URL has an invalid port (it must be a whole number from 1 to 65535), got ${JSON.stringify(shown)}.`;

/** A path on an mqtt:// or mqtts:// URL. */
export const brokerUrlPath = (path: string, shown: string) =>
  `MQTT_BROKER_URL has the path ${JSON.stringify(path)}, but only websocket URLs (ws://, wss://) can have one, got ${JSON.stringify(shown)}.`;

/** A URL with a query or fragment. */
export const brokerUrlQuery = (shown: string) =>
  `MQTT_BROKER_URL must not have a query (?...) or fragment (#...), got ${JSON.stringify(shown)}.`;

// --- several keys -------------------------------------------------------------------------

/** The URL's scheme says websockets or tcp, `MQTT_TRANSPORT` says the other. */
export const urlTransportConflict = (scheme: string, transport: string) =>
  `MQTT_BROKER_URL uses ${scheme}://, which means MQTT_TRANSPORT ${JSON.stringify(scheme.startsWith('ws') ? 'websockets' : 'tcp')}, but MQTT_TRANSPORT is ${JSON.stringify(transport)}: make them agree, or unset MQTT_TRANSPORT.`;

/** The URL's scheme says TLS on or off, `MQTT_TLS_ENABLED` says the other. */
export const urlTlsConflict = (scheme: string, tlsEnabled: boolean) =>
  `MQTT_BROKER_URL uses ${scheme}://, which means TLS is ${tlsEnabled ? 'off' : 'on'}, but MQTT_TLS_ENABLED is ${tlsEnabled}: make them agree, or unset MQTT_TLS_ENABLED.`;

/** The URL's port differs from `MQTT_BROKER_PORT`. */
export const urlPortConflict = (urlPort: number, port: number) =>
  `MQTT_BROKER_URL has the port ${urlPort}, but MQTT_BROKER_PORT is ${port}: make them agree, or unset MQTT_BROKER_PORT.`;

/** The URL's path differs from `MQTT_WS_PATH`. */
export const urlPathConflict = (path: string, wsPath: string) =>
  `MQTT_BROKER_URL has the path ${JSON.stringify(path)}, but MQTT_WS_PATH is ${JSON.stringify(wsPath)}: make them agree, or unset MQTT_WS_PATH.`;

/** `MQTT_PASSWORD` without `MQTT_USERNAME` on MQTT 3.x. */
export const passwordWithoutUsername = () =>
  'MQTT_PASSWORD is set but MQTT_USERNAME is not: MQTT 3.x cannot send a password without a user name (Flask-MQTT silently drops it). Set MQTT_USERNAME, or use MQTT_PROTOCOL_VERSION=MQTTv5.';

/** A client key without its certificate. */
export const keyWithoutCert = () =>
  'MQTT_TLS_KEYFILE is set but MQTT_TLS_CERTFILE is not: set MQTT_TLS_CERTFILE to the client certificate that belongs to this key.';

/** A client certificate without its key. */
export const certWithoutKey = () =>
  'MQTT_TLS_CERTFILE is set but MQTT_TLS_KEYFILE is not: set MQTT_TLS_KEYFILE to the private key of this client certificate.';

function pathText(path: string, resolved: string): string {
  return path === resolved ? JSON.stringify(path) : `${JSON.stringify(path)} (${resolved})`;
}

/** PEM content given where a path belongs; the value is not quoted, it may be a private key. */
export const pemInsteadOfPath = (key: string) =>
  `${key} looks like PEM content (certificate or key text), not a path: write it to a file and set ${key} to that file's path. The value is not shown, since it may be a private key.`;

/** A TLS file that does not exist. */
export const fileMissing = (key: string, path: string, resolved: string) =>
  `${key} names the file ${pathText(path, resolved)}, which does not exist: fix the path, or mount the file.`;

/** A TLS path that is a directory or another non-file. */
export const fileNotRegular = (key: string, path: string, resolved: string, kind: string) =>
  `${key} names ${pathText(path, resolved)}, which is ${kind}, not a regular file: name the PEM file itself.`;

/** A TLS file this process may not read. */
export const fileUnreadable = (key: string, path: string, resolved: string, reason: string) =>
  `${key} names the file ${pathText(path, resolved)}, which this process cannot read (${reason}): fix its permissions.`;

// --- warnings -----------------------------------------------------------------------------

/** An `MQTT_*` key this library does not know. */
export const unknownKey = (key: string, suggestion?: string) =>
  `${key} is not a known MQTT_* key and is ignored${suggestion ? `: did you mean ${suggestion}?` : '.'}`;

/** A key Flask-MQTT removed. */
export const removedKey = (key: string, replacement: string) =>
  `${key} was removed from Flask-MQTT long ago and is ignored: use ${replacement} (seconds between reconnect attempts) instead.`;

/** TLS keys while TLS is off. */
export const tlsKeysIgnored = (keys: readonly string[]) =>
  `${keys.join(', ')} ${keys.length === 1 ? 'is' : 'are'} set but TLS is off (MQTT_TLS_ENABLED is not true and MQTT_BROKER_URL is not mqtts:// or wss://), so ${keys.length === 1 ? 'it is' : 'they are'} ignored.`;

/** `MQTT_TLS_INSECURE=true`. */
export const tlsInsecure = () =>
  "MQTT_TLS_INSECURE is true: host name verification is off, so the broker's certificate is not checked against its host name and anyone in the middle can pose as the broker. Do not use this in production.";

/** `MQTT_TLS_CERT_REQS=CERT_NONE`. */
export const certNone = () =>
  "MQTT_TLS_CERT_REQS is CERT_NONE: the broker's certificate is not verified at all, so the connection is encrypted but not authenticated. Do not use this in production.";

/** TLS 1.0 or 1.1 pinned. */
export const tlsVersionInsecure = (version: string) =>
  `MQTT_TLS_VERSION is ${version}, which is insecure; OpenSSL's default security level may refuse it. Use TLSv1.2 or TLSv1.3, or leave it unset.`;

/** Will keys without a will topic. */
export const willKeysWithoutTopic = (keys: readonly string[]) =>
  `${keys.join(', ')} ${keys.length === 1 ? 'is' : 'are'} set but MQTT_LAST_WILL_TOPIC is not, so no last will is sent.`;

/** `MQTT_WS_PATH` on a tcp connection. */
export const wsPathIgnored = () =>
  'MQTT_WS_PATH is set but the transport is tcp (MQTT_TRANSPORT is not websockets and MQTT_BROKER_URL is not ws:// or wss://), so it is ignored.';

/** A persistent session under a generated client id. */
export const persistentSessionWithoutClientId = () =>
  'MQTT_CLEAN_SESSION is false but MQTT_CLIENT_ID is not set: the generated client id changes on every start, so the broker can never resume the session. Set MQTT_CLIENT_ID.';

/** A client id too long for strict MQTT 3.1 brokers. */
export const clientIdLongForV31 = (bytes: number, generated: boolean) =>
  `The ${generated ? 'generated ' : ''}client id is ${bytes} bytes long, but MQTT 3.1 brokers may refuse ids longer than 23 bytes: ${generated ? 'set a shorter MQTT_CLIENT_ID' : 'shorten MQTT_CLIENT_ID'}, or use MQTT_PROTOCOL_VERSION=MQTTv311.`;

/** TLS on with the default port 1883. */
export const tlsOnPlainPort = () =>
  'TLS is on but the port is 1883 (the default, for plain MQTT); brokers usually serve MQTT over TLS on 8883. Set MQTT_BROKER_PORT, or use an mqtts:// URL.';

/** The TLS port without TLS. */
export const tlsPortWithoutTls = (port: number) =>
  `MQTT_BROKER_PORT is ${port}, the usual port of MQTT over TLS, but TLS is off: set MQTT_TLS_ENABLED=true if the broker expects TLS.`;

/** `MQTT_SESSION_EXPIRY` on MQTT 3.x, which has no Session Expiry Interval. */
export const sessionExpiryNeedsV5 = () =>
  "MQTT_SESSION_EXPIRY is set but MQTT_PROTOCOL_VERSION is not MQTTv5, so it is ignored: on MQTT 3.x a persistent session (MQTT_CLEAN_SESSION=false) lasts as long as the broker's own settings say (Mosquitto: persistent_client_expiration). Set MQTT_PROTOCOL_VERSION=MQTTv5 to choose the expiry.";

/** A session kept after the connection, but discarded by the next clean start. */
export const sessionExpiryWithCleanSession = (seconds: number) =>
  `MQTT_SESSION_EXPIRY is ${seconds} but MQTT_CLEAN_SESSION is true: the broker keeps the session after a disconnect, but every connect starts clean and discards it. Set MQTT_CLEAN_SESSION=false to resume the session, or leave MQTT_SESSION_EXPIRY unset.`;

/** A persistent session that dies with its connection. */
export const sessionExpiryZeroWithPersistentSession = () =>
  'MQTT_SESSION_EXPIRY is 0 with MQTT_CLEAN_SESSION=false: the broker discards the session as soon as the connection closes, so a reconnect finds nothing to resume and messages sent meanwhile are lost. Leave MQTT_SESSION_EXPIRY unset (the session never expires) or set the seconds it should outlive a connection.';

/** Connecting in the background without reconnecting. */
export const backgroundWithoutReconnect = () =>
  'MQTT_CONNECT_IN_BACKGROUND is true but MQTT_RECONNECT_PERIOD is 0: if the first attempt fails, the client never connects.';

// --- the error ----------------------------------------------------------------------------

/** First line of a `MqttConfigError`. */
export const configErrorHeader = (count: number) =>
  `Invalid MQTT configuration: ${count} ${count === 1 ? 'problem' : 'problems'}.`;

/** Heading of the warnings listed in a `MqttConfigError`. */
export const configErrorWarningsHeading = () => 'Warnings:';

/** Last line of a `MqttConfigError`. */
export const configErrorFooter = () =>
  'Fix these keys in your environment, .env file or MqttModule options.';

/** A TLS file that could not be read when the client options were built. */
export const fileReadFailed = (key: string, path: string, reason: string) =>
  `${key} names the file ${JSON.stringify(path)}, which could not be read (${reason}).`;

/** MQTT_TLS_CIPHERS names no cipher OpenSSL knows. */
export const badCiphers = (ciphers: string, reason: string) =>
  `MQTT_TLS_CIPHERS must be an OpenSSL cipher list naming at least one cipher this Node.js supports, got ${JSON.stringify(ciphers)} (${reason}). See \`openssl ciphers -v\`.`;

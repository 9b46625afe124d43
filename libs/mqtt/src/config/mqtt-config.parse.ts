import { createSecureContext } from 'node:tls';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { resolve } from 'node:path';
import { MqttConfigError, type MqttConfigIssue } from '../errors/mqtt-config.error';
import type {
  MqttCertReqs,
  MqttConfig,
  MqttConfigInput,
} from '../interfaces/mqtt-config.interface';
import {
  MQTT_CLIENT_ID_PREFIX,
  MQTT_CONFIG_KEY_TABLE,
  MQTT_CONFIG_KEYS,
  MQTT_KEY_PREFIX,
  MQTT_REMOVED_KEYS,
  MQTT_SCHEME_PORTS,
  MQTT_SESSION_NEVER_EXPIRES,
  MQTT_TLS_KEYS,
  MQTT_V31_MAX_CLIENT_ID_LENGTH,
  MQTT_WILL_KEYS,
  type MqttConfigKey,
  type MqttTransport,
} from './mqtt-config.constants';
import { getMqttValueParser } from './mqtt-config.decorators';
import { MqttConfigDto } from './mqtt-config.dto';
import * as messages from './mqtt-config.messages';
import {
  parseBrokerAddress,
  type MqttBrokerAddress,
  type MqttTlsVersionSetting,
  type MqttValueParser,
} from './mqtt-config.parsers';
import { suggestKey } from './mqtt-config.suggest';

/** Options of {@link parseMqttConfig}. */
export interface ParseMqttConfigOptions {
  /**
   * When TLS is on, check that every file named by MQTT_TLS_CA_CERTS, MQTT_TLS_CERTFILE
   * and MQTT_TLS_KEYFILE exists, is a regular file and is readable.
   * @default true
   */
  readonly checkFiles?: boolean;
}

/** The result of {@link parseMqttConfig}. */
export interface ParsedMqttConfig {
  /** The validated configuration, with every default applied. */
  readonly config: MqttConfig;
  /** Things that are allowed but probably wrong; the module logs them. */
  readonly warnings: string[];
}

type Values = Partial<Record<MqttConfigKey, unknown>>;

interface Analysis extends ParsedMqttConfig {
  /** The `MQTT_*` keys that were set, in native form. */
  readonly normalised: Values;
}

const KEY_ORDER = new Map<string, number>(MQTT_CONFIG_KEYS.map((key, index) => [key, index]));

function parserOf(key: MqttConfigKey): MqttValueParser {
  const parser = getMqttValueParser(MqttConfigDto, key);
  if (!parser) throw new Error(`MqttConfigDto has no validator for ${key}.`);
  return parser;
}

function defaultOf(key: MqttConfigKey): unknown {
  const result = parserOf(key)(key, MQTT_CONFIG_KEY_TABLE[key].default);
  return result.ok ? result.value : undefined;
}

/**
 * Validates the `MQTT_*` keys of `input` (which may be all of `process.env`: other
 * keys are ignored) and turns them into an {@link MqttConfig}. Unknown `MQTT_*` keys,
 * settings that are ignored and unsafe choices become warnings.
 *
 * @throws MqttConfigError listing every problem at once.
 */
export function parseMqttConfig(
  input: MqttConfigInput | Record<string, unknown>,
  options: ParseMqttConfigOptions = {},
): ParsedMqttConfig {
  const { config, warnings } = analyse(input as Record<string, unknown>, options);
  return { config, warnings };
}

/**
 * A `validate` function for `ConfigModule.forRoot({ validate: validateMqttConfig })`:
 * returns `record` with the `MQTT_*` keys that are set turned into native values
 * (numbers, booleans, canonical spellings; blank ones are left as they are) and every
 * other key untouched. Feeding its result back in gives the same result. Warnings are
 * not returned here: `parseMqttConfig` finds them again.
 *
 * @throws MqttConfigError listing every problem at once.
 */
export function validateMqttConfig(record: Record<string, unknown>): Record<string, unknown> {
  const { normalised } = analyse(record, {});
  return { ...record, ...normalised };
}

function analyse(record: Record<string, unknown>, options: ParseMqttConfigOptions): Analysis {
  const issues: MqttConfigIssue[] = [];
  const warnings: string[] = [];
  const issue = (key: MqttConfigKey, message: string) => issues.push({ key, message });
  const warn = (message: string) => warnings.push(message);

  // Only own MQTT_* keys matter; the record may be the whole of process.env.
  const plain: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    if (!key.startsWith(MQTT_KEY_PREFIX)) continue;
    if (KEY_ORDER.has(key)) plain[key] = record[key];
    else if (key in MQTT_REMOVED_KEYS) {
      warn(messages.removedKey(key, MQTT_REMOVED_KEYS[key as keyof typeof MQTT_REMOVED_KEYS]));
    } else warn(messages.unknownKey(key, suggestKey(key, MQTT_CONFIG_KEYS)));
  }

  // 1. Each key alone, the @nestjs/config way.
  const dto = plainToInstance(MqttConfigDto, plain);
  const failed = new Set<string>();
  for (const error of validateSync(dto, { validationError: { target: false, value: false } })) {
    failed.add(error.property);
    for (const message of Object.values(error.constraints ?? {})) {
      issue(error.property as MqttConfigKey, message);
    }
  }
  const values: Values = {};
  for (const key of MQTT_CONFIG_KEYS) {
    if (failed.has(key)) continue;
    const result = parserOf(key)(key, plain[key]);
    if (!result.ok) {
      failed.add(key);
      issue(key, result.message);
    } else if (result.value !== undefined) {
      values[key] = result.value;
    }
  }

  // 2. Rules across keys. A key that failed above takes no part, so one mistake is
  // reported once.
  const bad = (key: MqttConfigKey) => failed.has(key);
  const get = <T>(key: MqttConfigKey) => values[key] as T | undefined;
  const valueOf = <T>(key: MqttConfigKey) => (values[key] ?? defaultOf(key)) as T;
  const changed = (key: MqttConfigKey) =>
    values[key] !== undefined && values[key] !== defaultOf(key);

  const address: MqttBrokerAddress = (() => {
    const result = parseBrokerAddress(valueOf<string>('MQTT_BROKER_URL'));
    return result.ok && result.value ? result.value : { host: 'localhost' };
  })();
  const scheme = address.scheme;

  const tlsSetting = get<boolean>('MQTT_TLS_ENABLED');
  const transportSetting = get<MqttTransport>('MQTT_TRANSPORT');
  let tls: boolean;
  let ws: boolean;
  if (scheme) {
    tls = scheme === 'mqtts' || scheme === 'wss';
    ws = scheme === 'ws' || scheme === 'wss';
    if (tlsSetting !== undefined && tlsSetting !== tls) {
      issue('MQTT_BROKER_URL', messages.urlTlsConflict(scheme, tlsSetting));
    }
    if (transportSetting !== undefined && (transportSetting === 'websockets') !== ws) {
      issue('MQTT_BROKER_URL', messages.urlTransportConflict(scheme, transportSetting));
    }
  } else {
    tls = tlsSetting ?? false;
    ws = transportSetting === 'websockets';
  }

  const portSetting = get<number>('MQTT_BROKER_PORT');
  let port: number;
  let portDefaulted = false;
  if (address.port !== undefined) {
    if (portSetting !== undefined && portSetting !== address.port) {
      issue('MQTT_BROKER_URL', messages.urlPortConflict(address.port, portSetting));
    }
    port = address.port;
  } else if (portSetting !== undefined) {
    port = portSetting;
  } else if (scheme) {
    port = MQTT_SCHEME_PORTS[scheme];
  } else {
    port = valueOf<number>('MQTT_BROKER_PORT');
    portDefaulted = !bad('MQTT_BROKER_PORT');
  }

  const wsPathSetting = get<string>('MQTT_WS_PATH');
  let wsPath = wsPathSetting ?? valueOf<string>('MQTT_WS_PATH');
  if (address.path !== undefined) {
    if (wsPathSetting !== undefined && wsPathSetting !== address.path) {
      issue('MQTT_BROKER_URL', messages.urlPathConflict(address.path, wsPathSetting));
    }
    wsPath = address.path;
  }
  if (!ws && wsPathSetting !== undefined) warn(messages.wsPathIgnored());

  const protocolVersion = valueOf<3 | 4 | 5>('MQTT_PROTOCOL_VERSION');
  const username = get<string>('MQTT_USERNAME');
  const password = get<string>('MQTT_PASSWORD');
  if (
    password !== undefined &&
    username === undefined &&
    protocolVersion < 5 &&
    !bad('MQTT_USERNAME') &&
    !bad('MQTT_PROTOCOL_VERSION')
  ) {
    issue('MQTT_PASSWORD', messages.passwordWithoutUsername());
  }

  const clientIdSetting = get<string>('MQTT_CLIENT_ID');
  const clientIdGenerated = clientIdSetting === undefined;
  const clientId = clientIdSetting ?? `${MQTT_CLIENT_ID_PREFIX}${randomBytes(6).toString('hex')}`;
  const cleanSession = valueOf<boolean>('MQTT_CLEAN_SESSION');
  if (!bad('MQTT_CLIENT_ID')) {
    if (!cleanSession && clientIdGenerated) warn(messages.persistentSessionWithoutClientId());
    const bytes = Buffer.byteLength(clientId, 'utf8');
    if (protocolVersion === 3 && bytes > MQTT_V31_MAX_CLIENT_ID_LENGTH) {
      warn(messages.clientIdLongForV31(bytes, clientIdGenerated));
    }
  }

  let tlsConfig: MqttConfig['tls'] = {
    enabled: false,
    certReqs: valueOf<MqttCertReqs>('MQTT_TLS_CERT_REQS'),
    insecure: false,
  };
  if (tls) {
    const caCerts = get<string>('MQTT_TLS_CA_CERTS');
    const certfile = get<string>('MQTT_TLS_CERTFILE');
    const keyfile = get<string>('MQTT_TLS_KEYFILE');
    if (keyfile !== undefined && certfile === undefined && !bad('MQTT_TLS_CERTFILE')) {
      issue('MQTT_TLS_KEYFILE', messages.keyWithoutCert());
    }
    if (certfile !== undefined && keyfile === undefined && !bad('MQTT_TLS_KEYFILE')) {
      issue('MQTT_TLS_CERTFILE', messages.certWithoutKey());
    }
    if (options.checkFiles ?? true) {
      const files = {
        MQTT_TLS_CA_CERTS: caCerts,
        MQTT_TLS_CERTFILE: certfile,
        MQTT_TLS_KEYFILE: keyfile,
      };
      for (const [key, path] of Object.entries(files)) {
        const problem = path === undefined ? undefined : checkFile(key, path);
        if (problem) issue(key as MqttConfigKey, problem);
      }
    }
    const version = get<MqttTlsVersionSetting>('MQTT_TLS_VERSION');
    tlsConfig = {
      enabled: true,
      caCerts,
      certfile,
      keyfile,
      certReqs: valueOf<MqttCertReqs>('MQTT_TLS_CERT_REQS'),
      version: version === 'TLS' ? undefined : version,
      ciphers: get<string>('MQTT_TLS_CIPHERS'),
      insecure: valueOf<boolean>('MQTT_TLS_INSECURE'),
    };
    if (tlsConfig.ciphers !== undefined) {
      const problem = cipherProblem(tlsConfig.ciphers);
      if (problem) issue('MQTT_TLS_CIPHERS', messages.badCiphers(tlsConfig.ciphers, problem));
    }
    if (tlsConfig.certReqs === 'CERT_NONE') warn(messages.certNone());
    if (tlsConfig.insecure) warn(messages.tlsInsecure());
    if (version === 'TLSv1' || version === 'TLSv1.1') warn(messages.tlsVersionInsecure(version));
    if (portDefaulted) warn(messages.tlsOnPlainPort());
  } else if (!bad('MQTT_TLS_ENABLED')) {
    const ignored = MQTT_TLS_KEYS.filter(changed);
    if (ignored.length > 0) warn(messages.tlsKeysIgnored(ignored));
    if (port === MQTT_SCHEME_PORTS.mqtts) warn(messages.tlsPortWithoutTls(port));
  }

  let will: MqttConfig['will'];
  const willTopic = get<string>('MQTT_LAST_WILL_TOPIC');
  if (willTopic !== undefined) {
    will = {
      topic: willTopic,
      payload: toPayload(get<string | number | Buffer>('MQTT_LAST_WILL_MESSAGE')),
      qos: valueOf<0 | 1 | 2>('MQTT_LAST_WILL_QOS'),
      retain: valueOf<boolean>('MQTT_LAST_WILL_RETAIN'),
    };
  } else if (!bad('MQTT_LAST_WILL_TOPIC')) {
    const orphans = MQTT_WILL_KEYS.filter(changed);
    if (orphans.length > 0) warn(messages.willKeysWithoutTopic(orphans));
  }

  const expirySetting = get<number>('MQTT_SESSION_EXPIRY');
  const sessionExpiry =
    protocolVersion !== 5 ? 0 : (expirySetting ?? (cleanSession ? 0 : MQTT_SESSION_NEVER_EXPIRES));
  if (expirySetting !== undefined && !bad('MQTT_PROTOCOL_VERSION')) {
    if (protocolVersion !== 5) warn(messages.sessionExpiryNeedsV5());
    else if (cleanSession && expirySetting > 0) {
      warn(messages.sessionExpiryWithCleanSession(expirySetting));
    } else if (!cleanSession && expirySetting === 0) {
      warn(messages.sessionExpiryZeroWithPersistentSession());
    }
  }

  const reconnectPeriod = valueOf<number>('MQTT_RECONNECT_PERIOD') * 1000;
  const connectInBackground = valueOf<boolean>('MQTT_CONNECT_IN_BACKGROUND');
  if (connectInBackground && reconnectPeriod === 0 && !bad('MQTT_RECONNECT_PERIOD')) {
    warn(messages.backgroundWithoutReconnect());
  }

  hideSecret(record.MQTT_PASSWORD, issues, warnings);
  if (issues.length > 0) {
    const order = (i: MqttConfigIssue) => KEY_ORDER.get(i.key) ?? KEY_ORDER.size;
    // Array.prototype.sort is stable: issues of one key keep their order.
    throw new MqttConfigError(
      [...issues].sort((a, b) => order(a) - order(b)),
      warnings,
    );
  }

  const config: MqttConfig = {
    clientId,
    clientIdGenerated,
    protocol: ws ? (tls ? 'wss' : 'ws') : tls ? 'mqtts' : 'mqtt',
    host: address.host,
    port,
    wsPath,
    username,
    password,
    keepalive: valueOf<number>('MQTT_KEEPALIVE'),
    tls: tlsConfig,
    will,
    protocolVersion,
    cleanSession,
    sessionExpiry,
    connectionTimeout: valueOf<number>('MQTT_CONNECTION_TIMEOUT') * 1000,
    reconnectPeriod,
    connectInBackground,
    sharedGroup: get<string>('MQTT_SHARED_GROUP'),
    deadLetterTopic: get<string>('MQTT_DEAD_LETTER_TOPIC'),
    shutdownTimeout: valueOf<number>('MQTT_SHUTDOWN_TIMEOUT') * 1000,
    reconnectMaxPeriod: valueOf<number>('MQTT_RECONNECT_MAX_PERIOD') * 1000,
    handlerTimeout: Math.round(valueOf<number>('MQTT_HANDLER_TIMEOUT') * 1000),
    qos0QueueLimit: valueOf<number>('MQTT_QOS0_QUEUE_LIMIT'),
    offlineQueueLimit: valueOf<number>('MQTT_OFFLINE_QUEUE_LIMIT'),
    publishTimeout: Math.round(valueOf<number>('MQTT_PUBLISH_TIMEOUT') * 1000),
  };
  return { config: hidePassword(dropUndefined(config)), warnings, normalised: values };
}

function toPayload(message: string | number | Buffer | undefined): Buffer {
  if (message === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(message)) return message;
  return Buffer.from(String(message), 'utf8');
}

function describeFileKind(stats: fs.Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a file';
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ?? 'unknown error';
}

/** Checks one TLS file without reading it; gives the problem, if any. */
/** Asks OpenSSL whether the cipher list names at least one cipher it knows. */
function cipherProblem(ciphers: string): string | undefined {
  try {
    createSecureContext({ ciphers });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function checkFile(key: string, path: string): string | undefined {
  // Certificates and keys pasted where a path belongs must not be echoed back into logs.
  if (looksLikePem(path)) return messages.pemInsteadOfPath(key);
  const resolved = resolve(path);
  let stats: fs.Stats;
  try {
    stats = fs.statSync(resolved);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? messages.fileMissing(key, path, resolved)
      : messages.fileUnreadable(key, path, resolved, reasonOf(error));
  }
  if (!stats.isFile()) return messages.fileNotRegular(key, path, resolved, describeFileKind(stats));
  try {
    fs.accessSync(resolved, fs.constants.R_OK);
  } catch (error) {
    return messages.fileUnreadable(key, path, resolved, reasonOf(error));
  }
  return undefined;
}

/**
 * Keeps the password out of `JSON.stringify`, `console.log` and spreads of the config (it is
 * injectable as MQTT_CONFIG): a non-enumerable property, still readable as `config.password`.
 */
function hidePassword(config: MqttConfig): MqttConfig {
  if (config.password !== undefined) {
    Object.defineProperty(config, 'password', { value: config.password, enumerable: false });
  }
  return config;
}

/** Whether a value is PEM text (or any multi-line text) rather than a file path. */
export function looksLikePem(value: string): boolean {
  return value.includes('-----BEGIN') || value.includes('\n');
}

/**
 * Defence in depth: should the password turn up inside another key's value (and so
 * in a message), it is replaced by ***. Short passwords are left alone, since they
 * would match ordinary words.
 */
function hideSecret(secret: unknown, issues: MqttConfigIssue[], warnings: string[]): void {
  if (typeof secret !== 'string' || secret.length < 4) return;
  const forms = [secret, JSON.stringify(secret).slice(1, -1)];
  const hideWhole = (text: string) => forms.reduce((t, form) => t.split(form).join('***'), text);
  // A long value is quoted cut short ("…"), which may cut the secret too: hide its prefixes there.
  const hide = (text: string) => {
    let out = hideWhole(text);
    for (const form of forms) {
      for (let k = form.length - 1; k >= 1; k--) {
        out = out.split(`${form.slice(0, k)}…`).join('***…');
      }
    }
    return out;
  };
  issues.forEach((i, n) => (issues[n] = { key: i.key, message: hide(i.message) }));
  warnings.forEach((w, n) => (warnings[n] = hide(w)));
}

function dropUndefined<T extends object>(value: T): T {
  const out = { ...value } as Record<string, unknown>;
  for (const key of Object.keys(out)) {
    if (out[key] === undefined) delete out[key];
    else if (key === 'tls') out[key] = dropUndefined(out[key] as object);
  }
  return out as T;
}

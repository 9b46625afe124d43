import type { MqttConfig, MqttConfigInput } from '../interfaces/mqtt-config.interface';
import { resolveAddress, type MqttResolvedAddress } from './mqtt-config.address';
import type { MqttConfigKey } from './mqtt-config.constants';
import { MqttConfigReader, type MqttConfigValues } from './mqtt-config.reader';
import { hidePassword, hideSecret } from './mqtt-config.secrets';
import {
  checkReconnect,
  resolveClientId,
  resolveCredentials,
  resolveSessionExpiry,
  resolveWill,
  type MqttResolvedClientId,
} from './mqtt-config.session';
import { resolveTls } from './mqtt-config.tls';

export { looksLikePem } from './mqtt-config.secrets';

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

interface Analysis extends ParsedMqttConfig {
  /** The `MQTT_*` keys that were set, in native form. */
  readonly normalised: MqttConfigValues;
}

/** What the rules across keys resolved, besides plain values of one key. */
interface Resolved {
  readonly address: MqttResolvedAddress;
  readonly credentials: Pick<MqttConfig, 'username' | 'password'>;
  readonly clientId: MqttResolvedClientId;
  readonly tls: MqttConfig['tls'];
  readonly will: MqttConfig['will'];
  readonly sessionExpiry: number;
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

/**
 * Reads each key alone, then applies the rules across keys; a key that failed alone takes
 * no part in them, so one mistake is reported once. The steps run in this order because
 * warnings are reported in the order found.
 */
function analyse(record: Record<string, unknown>, options: ParseMqttConfigOptions): Analysis {
  const reader = new MqttConfigReader(record);
  const address = resolveAddress(reader);
  const credentials = resolveCredentials(reader);
  const clientId = resolveClientId(reader);
  const tls = resolveTls(reader, address, options.checkFiles ?? true);
  const will = resolveWill(reader);
  const sessionExpiry = resolveSessionExpiry(reader);
  checkReconnect(reader);

  hideSecret(record.MQTT_PASSWORD, reader.issues, reader.warnings);
  reader.throwIfIssues();

  const config = buildConfig(reader, { address, credentials, clientId, tls, will, sessionExpiry });
  return {
    config: hidePassword(dropUndefined(config)),
    warnings: reader.warnings,
    normalised: reader.values,
  };
}

/** Puts the resolved settings and the values of single keys (converted to ms) together. */
function buildConfig(reader: MqttConfigReader, resolved: Resolved): MqttConfig {
  const { address } = resolved;
  const protocol = address.ws ? (address.tls ? 'wss' : 'ws') : address.tls ? 'mqtts' : 'mqtt';
  const ms = (key: MqttConfigKey) => reader.valueOf<number>(key) * 1000;
  return {
    clientId: resolved.clientId.clientId,
    clientIdGenerated: resolved.clientId.clientIdGenerated,
    protocol,
    host: address.host,
    port: address.port,
    brokers: address.brokers.map((broker) => ({ protocol, ...broker })),
    wsPath: address.wsPath,
    username: resolved.credentials.username,
    password: resolved.credentials.password,
    keepalive: reader.valueOf<number>('MQTT_KEEPALIVE'),
    tls: resolved.tls,
    will: resolved.will,
    protocolVersion: reader.valueOf<3 | 4 | 5>('MQTT_PROTOCOL_VERSION'),
    cleanSession: reader.valueOf<boolean>('MQTT_CLEAN_SESSION'),
    sessionExpiry: resolved.sessionExpiry,
    connectionTimeout: ms('MQTT_CONNECTION_TIMEOUT'),
    reconnectPeriod: ms('MQTT_RECONNECT_PERIOD'),
    connectInBackground: reader.valueOf<boolean>('MQTT_CONNECT_IN_BACKGROUND'),
    sharedGroup: reader.get<string>('MQTT_SHARED_GROUP'),
    deadLetterTopic: reader.get<string>('MQTT_DEAD_LETTER_TOPIC'),
    shutdownTimeout: ms('MQTT_SHUTDOWN_TIMEOUT'),
    reconnectMaxPeriod: ms('MQTT_RECONNECT_MAX_PERIOD'),
    handlerTimeout: Math.round(ms('MQTT_HANDLER_TIMEOUT')),
    qos0QueueLimit: reader.valueOf<number>('MQTT_QOS0_QUEUE_LIMIT'),
    offlineQueueLimit: reader.valueOf<number>('MQTT_OFFLINE_QUEUE_LIMIT'),
    publishTimeout: Math.round(ms('MQTT_PUBLISH_TIMEOUT')),
    maxQos: reader.valueOf<0 | 1 | 2>('MQTT_MAX_QOS'),
    probeShared: reader.valueOf<boolean>('MQTT_PROBE_SHARED'),
  };
}

function dropUndefined<T extends object>(value: T): T {
  const out = { ...value } as Record<string, unknown>;
  for (const key of Object.keys(out)) {
    if (out[key] === undefined) delete out[key];
    else if (key === 'tls') out[key] = dropUndefined(out[key] as object);
  }
  return out as T;
}

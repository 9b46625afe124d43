import { looksLikePem } from './mqtt-config.secrets';
import type { IClientOptions } from 'mqtt';
import fs from 'node:fs';
import { isIP, isIPv6 } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { MqttConfigError } from '../errors/mqtt-config.error';
import type { MqttConfig } from '../interfaces/mqtt-config.interface';
import * as messages from './mqtt-config.messages';

/** TLS settings passed through MQTT.js to `tls.connect()`. */
export type MqttTlsConnectOptions = Pick<
  ConnectionOptions,
  | 'ca'
  | 'cert'
  | 'key'
  | 'rejectUnauthorized'
  | 'minVersion'
  | 'maxVersion'
  | 'ciphers'
  | 'checkServerIdentity'
  | 'servername'
>;

/** MQTT.js client options, with the TLS settings its type does not list. */
export type MqttConnectOptions = IClientOptions & MqttTlsConnectOptions;

/** What `mqtt.connect(url, options)` needs. */
export interface MqttConnectTarget {
  /** `protocol://host:port`, plus the websocket path for ws/wss; IPv6 hosts in brackets. */
  readonly url: string;
  /** Client options; subscriptions and queues are left to the service. */
  readonly options: MqttConnectOptions;
}

/**
 * Turns a validated {@link MqttConfig} into the arguments of MQTT.js `connect()`; a broker list
 * becomes MQTT.js's `servers` rotation (the URL names the first broker). TLS
 * files are read here (their content is never printed); a file that can no longer be
 * read gives an `MqttConfigError` naming the key and path.
 */
export function toMqttConnectOptions(config: MqttConfig): MqttConnectTarget {
  const websocket = config.protocol === 'ws' || config.protocol === 'wss';
  const bracketedHost = isIPv6(config.host) ? `[${config.host}]` : config.host;
  const url = `${config.protocol}://${bracketedHost}:${config.port}${websocket ? config.wsPath : ''}`;

  const options: MqttConnectOptions = {
    clientId: config.clientId,
    protocolVersion: config.protocolVersion,
    protocolId: config.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    clean: config.cleanSession,
    keepalive: config.keepalive,
    connectTimeout: config.connectionTimeout,
    reconnectPeriod: config.reconnectPeriod,
  };
  // MQTT 5: without a Session Expiry Interval the broker drops the session with the connection.
  if (config.protocolVersion === 5 && config.sessionExpiry > 0) {
    options.properties = { sessionExpiryInterval: config.sessionExpiry };
  }
  if (config.username !== undefined) options.username = config.username;
  if (config.password !== undefined) options.password = config.password;
  if (config.will) {
    options.will = {
      topic: config.will.topic,
      payload: config.will.payload,
      qos: config.will.qos,
      retain: config.will.retain,
    };
  }
  // MQTT.js builds the websocket URL from `hostname` without brackets.
  if (websocket && bracketedHost !== config.host) options.hostname = bracketedHost;
  // A list: MQTT.js's own rotation, one entry per (re)connect attempt, first to last and round.
  if (config.brokers.length > 1) {
    options.servers = config.brokers.map(({ protocol, host, port }) => ({ protocol, host, port }));
  }

  if (config.protocol === 'mqtts' || config.protocol === 'wss') {
    const tls = tlsOptions(config);
    Object.assign(options, tls);
    // For wss, MQTT.js hands only ca/cert/key/rejectUnauthorized to the websocket;
    // wsOptions reaches tls.connect() whole.
    if (config.protocol === 'wss') options.wsOptions = { ...tls } as IClientOptions['wsOptions'];
  }
  return { url, options };
}

function tlsOptions(config: MqttConfig): MqttTlsConnectOptions {
  const tls: MqttTlsConnectOptions = {
    rejectUnauthorized: config.tls.certReqs !== 'CERT_NONE',
  };
  if (config.tls.caCerts !== undefined)
    tls.ca = readTlsFile('MQTT_TLS_CA_CERTS', config.tls.caCerts);
  if (config.tls.certfile !== undefined) {
    tls.cert = readTlsFile('MQTT_TLS_CERTFILE', config.tls.certfile);
  }
  if (config.tls.keyfile !== undefined)
    tls.key = readTlsFile('MQTT_TLS_KEYFILE', config.tls.keyfile);
  if (config.tls.version !== undefined) {
    tls.minVersion = config.tls.version;
    tls.maxVersion = config.tls.version;
  }
  if (config.tls.ciphers !== undefined) tls.ciphers = config.tls.ciphers;
  if (config.tls.insecure) tls.checkServerIdentity = () => undefined;
  // With a list MQTT.js sets the name from the host it connects to (the service clears the one
  // MQTT.js keeps from the previous broker before each attempt).
  if (isIP(config.host) === 0 && config.brokers.length <= 1) tls.servername = config.host;
  return tls;
}

function readTlsFile(key: string, path: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    const message = looksLikePem(path)
      ? messages.pemInsteadOfPath(key)
      : messages.fileReadFailed(key, path, code);
    throw new MqttConfigError([{ key, message }]);
  }
}

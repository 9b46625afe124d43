import fs from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { MqttCertReqs, MqttConfig } from '../interfaces/mqtt-config.interface';
import { MQTT_SCHEME_PORTS, MQTT_TLS_KEYS, type MqttConfigKey } from './mqtt-config.constants';
import * as messages from './mqtt-config.messages';
import type { MqttConfigReader } from './mqtt-config.reader';
import { looksLikePem } from './mqtt-config.secrets';
import type { MqttTlsVersionSetting } from './mqtt-config.values';

/** What {@link resolveTls} needs to know of the resolved address. */
export interface MqttTlsContext {
  /** TLS is on (from the URL's scheme or MQTT_TLS_ENABLED). */
  readonly tls: boolean;
  /** The first broker's port. */
  readonly port: number;
  /** The port is MQTT_BROKER_PORT's default, chosen by nobody. */
  readonly portDefaulted: boolean;
}

/**
 * Resolves the TLS settings. With TLS on, checks that a certificate and its key come
 * together, that the files exist (unless `checkFiles` is false) and that OpenSSL knows
 * the ciphers, and warns of unsafe choices; with TLS off, warns of TLS keys that are
 * ignored and of the mqtts port.
 */
export function resolveTls(
  reader: MqttConfigReader,
  context: MqttTlsContext,
  checkFiles: boolean,
): MqttConfig['tls'] {
  if (!context.tls) {
    if (!reader.bad('MQTT_TLS_ENABLED')) warnTlsOff(reader, context.port);
    return {
      enabled: false,
      certReqs: reader.valueOf<MqttCertReqs>('MQTT_TLS_CERT_REQS'),
      insecure: false,
    };
  }

  const caCerts = reader.get<string>('MQTT_TLS_CA_CERTS');
  const certfile = reader.get<string>('MQTT_TLS_CERTFILE');
  const keyfile = reader.get<string>('MQTT_TLS_KEYFILE');
  if (keyfile !== undefined && certfile === undefined && !reader.bad('MQTT_TLS_CERTFILE')) {
    reader.issue('MQTT_TLS_KEYFILE', messages.keyWithoutCert());
  }
  if (certfile !== undefined && keyfile === undefined && !reader.bad('MQTT_TLS_KEYFILE')) {
    reader.issue('MQTT_TLS_CERTFILE', messages.certWithoutKey());
  }
  if (checkFiles) {
    const files = {
      MQTT_TLS_CA_CERTS: caCerts,
      MQTT_TLS_CERTFILE: certfile,
      MQTT_TLS_KEYFILE: keyfile,
    };
    for (const [key, path] of Object.entries(files)) {
      const problem = path === undefined ? undefined : checkFile(key, path);
      if (problem) reader.issue(key as MqttConfigKey, problem);
    }
  }
  const version = reader.get<MqttTlsVersionSetting>('MQTT_TLS_VERSION');
  const tlsConfig: MqttConfig['tls'] = {
    enabled: true,
    caCerts,
    certfile,
    keyfile,
    certReqs: reader.valueOf<MqttCertReqs>('MQTT_TLS_CERT_REQS'),
    version: version === 'TLS' ? undefined : version,
    ciphers: reader.get<string>('MQTT_TLS_CIPHERS'),
    insecure: reader.valueOf<boolean>('MQTT_TLS_INSECURE'),
  };
  if (tlsConfig.ciphers !== undefined) {
    const problem = cipherProblem(tlsConfig.ciphers);
    if (problem) reader.issue('MQTT_TLS_CIPHERS', messages.badCiphers(tlsConfig.ciphers, problem));
  }
  if (tlsConfig.certReqs === 'CERT_NONE') reader.warn(messages.certNone());
  if (tlsConfig.insecure) reader.warn(messages.tlsInsecure());
  if (version === 'TLSv1' || version === 'TLSv1.1') {
    reader.warn(messages.tlsVersionInsecure(version));
  }
  if (context.portDefaulted) reader.warn(messages.tlsOnPlainPort());
  return tlsConfig;
}

function warnTlsOff(reader: MqttConfigReader, port: number): void {
  const ignored = MQTT_TLS_KEYS.filter((key) => reader.changed(key));
  if (ignored.length > 0) reader.warn(messages.tlsKeysIgnored(ignored));
  if (port === MQTT_SCHEME_PORTS.mqtts) reader.warn(messages.tlsPortWithoutTls(port));
}

/** Asks OpenSSL whether the cipher list names at least one cipher it knows. */
function cipherProblem(ciphers: string): string | undefined {
  try {
    createSecureContext({ ciphers });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Checks one TLS file without reading it; gives the problem, if any. */
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

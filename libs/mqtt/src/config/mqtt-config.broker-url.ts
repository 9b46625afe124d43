import { isIPv4, isIPv6 } from 'node:net';
import { MQTT_SCHEME_PORTS, type MqttScheme } from './mqtt-config.constants';
import * as messages from './mqtt-config.messages';
import { isUnset, type MqttValueParser, type MqttValueResult } from './mqtt-config.values';

/** Where `MQTT_BROKER_URL` points. */
export interface MqttBrokerAddress {
  /** The scheme, when a URL (not a bare host) was given. */
  readonly scheme?: MqttScheme;
  /** Host name or IP address; IPv6 without brackets. */
  readonly host: string;
  /** The port written in the URL. */
  readonly port?: number;
  /** The path written in a ws:// or wss:// URL. */
  readonly path?: string;
}

const ok = <T>(value: T | undefined): MqttValueResult<T> => ({ ok: true, value });
const fail = <T>(message: string): MqttValueResult<T> => ({ ok: false, message });

/**
 * `MQTT_BROKER_URL`: checks the syntax and gives the trimmed string (see {@link parseBrokerAddress}
 * and {@link parseBrokerList}).
 */
export function brokerUrl(): MqttValueParser<string> {
  return (key, raw) => {
    if (isUnset(raw)) return ok(undefined);
    if (typeof raw !== 'string') return fail(messages.notString(key, raw));
    const addresses = parseBrokerList(raw);
    return addresses.ok ? ok(raw.trim()) : fail(addresses.message);
  };
}

/**
 * Reads `MQTT_BROKER_URL` as one broker or a comma-separated list of brokers to fail over
 * between, in order. A single value follows {@link parseBrokerAddress}. In a list each entry is
 * a host, `host:port`, `[IPv6]:port` or an mqtt/mqtts/ws/wss URL without a path; the entries
 * must agree on TLS and transport. A bad entry is named by its position and text.
 */
export function parseBrokerList(raw: string): MqttValueResult<MqttBrokerAddress[]> {
  const value = raw.trim();
  if (!value.includes(',')) {
    const single = parseBrokerAddress(value);
    return single.ok ? ok(single.value ? [single.value] : []) : single;
  }
  const entries = value.split(',').map((entry) => entry.trim());
  const addresses: MqttBrokerAddress[] = [];
  for (const [index, entry] of entries.entries()) {
    if (entry === '') return fail(messages.brokerListEmptyEntry(index + 1, entries.length));
    const address = parseBrokerAddress(entry, true);
    if (!address.ok) {
      return fail(messages.brokerListEntry(index + 1, entries.length, address.message));
    }
    const parsed = address.value!;
    if (parsed.path !== undefined) {
      return fail(messages.brokerListPath(index + 1, entries.length, entry));
    }
    addresses.push(parsed);
  }
  const kinds = new Set(addresses.filter((a) => a.scheme).map((a) => a.scheme));
  if (kinds.size > 1) return fail(messages.brokerListMixedSchemes([...kinds].join(', ')));
  return ok(addresses);
}

const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s;
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOSTNAME_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);

function isHostName(host: string): boolean {
  if (host.length > 253) return false;
  if (/^[\d.]+$/.test(host)) return isIPv4(host);
  return HOSTNAME_RE.test(host);
}

/**
 * Reads `MQTT_BROKER_URL`: a bare host name, IPv4 address or IPv6 address (with or
 * without brackets), or a URL `scheme://host[:port][/path]` with scheme mqtt, mqtts,
 * ws or wss. User info (`user:secret@`) is refused, and never shown: everything up to
 * the last `@` is replaced by `***` in the message. `inList`: an entry of a broker list, where a
 * bare `host:port` is allowed (MQTT_BROKER_PORT cannot give each entry its own port).
 */
export function parseBrokerAddress(
  raw: string,
  inList = false,
): MqttValueResult<MqttBrokerAddress> {
  const value = raw.trim();
  const match = SCHEME_RE.exec(value);
  const schemeText = match?.[1]?.toLowerCase();
  const rest = match ? match[2] : value;

  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const shown = `${match ? `${match[1]}://` : ''}***${rest.slice(at)}`;
    return fail(messages.brokerUrlCredentials(shown));
  }
  if (schemeText !== undefined && !(schemeText in MQTT_SCHEME_PORTS)) {
    return fail(messages.brokerUrlScheme(schemeText, value));
  }
  const scheme = schemeText as MqttScheme | undefined;
  if (/\s/.test(value)) return fail(messages.brokerUrlInvalid(value));

  const cut = rest.search(/[/?#\\]/);
  const authority = cut < 0 ? rest : rest.slice(0, cut);
  const tail = cut < 0 ? '' : rest.slice(cut);

  if (scheme === undefined) {
    if (tail === '' && isIPv6(authority)) return ok({ host: authority });
    if (tail !== '') return fail(messages.brokerUrlInvalid(value));
  }
  if (/[?#]/.test(tail)) return fail(messages.brokerUrlQuery(value));
  if (tail.includes('\\')) return fail(messages.brokerUrlInvalid(value));

  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(authority);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
    if (!isIPv6(host)) return fail(messages.brokerUrlInvalid(value));
  } else {
    const parts = authority.split(':');
    if (parts.length > 2) return fail(messages.brokerUrlInvalid(value));
    host = parts[0];
    portText = parts[1];
    if (!isHostName(host)) return fail(messages.brokerUrlInvalid(value));
  }

  let port: number | undefined;
  if (portText !== undefined) {
    const number = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    const valid = number >= 1 && number <= 65535;
    if (scheme === undefined && !(inList && valid)) {
      return fail(
        valid
          ? messages.brokerUrlPortWithoutScheme(value, bracketed ? `[${host}]` : host, portText)
          : messages.brokerUrlInvalid(value),
      );
    }
    if (!valid) return fail(messages.brokerUrlPort(value));
    port = number;
  }

  let path: string | undefined;
  if (tail !== '') {
    if (scheme === 'ws' || scheme === 'wss') path = tail;
    else if (tail !== '/') return fail(messages.brokerUrlPath(tail, value));
  }
  return ok({ scheme, host, port, path });
}

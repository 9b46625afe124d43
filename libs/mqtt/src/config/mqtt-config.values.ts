import type { MqttCertReqs, MqttTlsVersion } from '../interfaces/mqtt-config.interface';
import { MQTT_CERT_REQS_NUMBERS, MQTT_MAX_STRING_BYTES } from './mqtt-config.constants';
import * as messages from './mqtt-config.messages';

/**
 * Outcome of reading one configuration value: its native form (`undefined` when
 * the key is unset), or the sentence that says what is wrong.
 */
export type MqttValueResult<T> =
  | { readonly ok: true; readonly value: T | undefined }
  | { readonly ok: false; readonly message: string };

/**
 * Reads one configuration value given as an env string or a native value. Every
 * parser treats `undefined`, `null`, `''` and white space only as unset.
 */
export type MqttValueParser<T = unknown> = (key: string, raw: unknown) => MqttValueResult<T>;

/** `MQTT_TLS_VERSION` once read: a version, or `'TLS'` for "negotiate, pin nothing". */
export type MqttTlsVersionSetting = MqttTlsVersion | 'TLS';

/** True for `undefined`, `null`, and strings that are empty or white space only. */
export function isUnset(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
}

const ok = <T>(value: T | undefined): MqttValueResult<T> => ({ ok: true, value });
const fail = <T>(message: string): MqttValueResult<T> => ({ ok: false, message });
const UNSET = { ok: true, value: undefined } as const;

const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];

/** A boolean: `true`/`false`, or the strings true/false, 1/0, yes/no in any case. */
export function envBoolean(): MqttValueParser<boolean> {
  return (key, raw) => {
    if (isUnset(raw)) return UNSET;
    if (typeof raw === 'boolean') return ok(raw);
    if (typeof raw === 'string') {
      const word = raw.trim().toLowerCase();
      if (TRUE_WORDS.includes(word)) return ok(true);
      if (FALSE_WORDS.includes(word)) return ok(false);
    }
    return fail(messages.notBoolean(key, raw));
  };
}

/** A whole number from `min` to `max`: a native integer or a string of decimal digits. */
export function envInt(min: number, max: number): MqttValueParser<number> {
  return (key, raw) => {
    if (isUnset(raw)) return UNSET;
    let value: number | undefined;
    if (typeof raw === 'number') value = raw;
    else if (typeof raw === 'string' && /^\d+$/.test(raw.trim())) value = Number(raw.trim());
    if (value === undefined || !Number.isInteger(value) || value < min || value > max) {
      return fail(messages.notWholeNumber(key, min, max, raw));
    }
    return ok(value);
  };
}

/** Seconds from `min` to `max`, fractions allowed: a native number or a decimal string. */
export function envSeconds(min: number, max: number): MqttValueParser<number> {
  return (key, raw) => {
    if (isUnset(raw)) return UNSET;
    let value: number | undefined;
    if (typeof raw === 'number') value = raw;
    else if (typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw.trim()))
      value = Number(raw.trim());
    if (value === undefined || !Number.isFinite(value) || value < min || value > max) {
      return fail(messages.notSeconds(key, min, max, raw));
    }
    return ok(value);
  };
}

/** One of a fixed list of strings, in any case; gives the listed spelling. */
export function oneOf<T extends string>(allowed: readonly T[]): MqttValueParser<T> {
  return (key, raw) => {
    if (isUnset(raw)) return UNSET;
    if (typeof raw === 'string') {
      const word = raw.trim().toLowerCase();
      const found = allowed.find((a) => a.toLowerCase() === word);
      if (found !== undefined) return ok(found);
    }
    return fail(messages.notOneOf(key, allowed, raw));
  };
}

/** Options of {@link text}. */
export interface MqttTextOptions {
  /** Trim surrounding white space. @default false */
  readonly trim?: boolean;
  /** Never show the value in a message. @default false */
  readonly secret?: boolean;
  /** Longest value in UTF-8 bytes. @default no limit */
  readonly maxBytes?: number;
}

/** A string, trimmed or kept exactly as given. */
export function text(options: MqttTextOptions = {}): MqttValueParser<string> {
  return (key, raw) => {
    if (isUnset(raw)) return UNSET;
    if (typeof raw !== 'string') return fail(messages.notString(key, raw, options.secret));
    const value = options.trim ? raw.trim() : raw;
    if (options.maxBytes !== undefined && !options.secret) {
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes > options.maxBytes)
        return fail(messages.tooLong(key, bytes, options.maxBytes, value));
    }
    return ok(value);
  };
}

const PROTOCOL_VERSIONS: Readonly<Record<string, 3 | 4 | 5>> = Object.freeze({
  mqttv31: 3,
  mqttv311: 4,
  mqttv5: 5,
  '3': 3,
  '4': 4,
  '5': 5,
});

/** `MQTT_PROTOCOL_VERSION`: MQTTv31, MQTTv311, MQTTv5 (any case) or 3, 4, 5. */
export function protocolVersion(): MqttValueParser<3 | 4 | 5> {
  return (_key, raw) => {
    if (isUnset(raw)) return UNSET;
    if (typeof raw === 'string' || typeof raw === 'number') {
      const version = PROTOCOL_VERSIONS[String(raw).trim().toLowerCase()];
      if (version !== undefined) return ok(version);
    }
    return fail(messages.invalidProtocolVersion(raw));
  };
}

/** `MQTT_TLS_CERT_REQS`: CERT_REQUIRED, CERT_OPTIONAL, CERT_NONE (any case, `ssl.` prefix allowed) or 2, 1, 0. */
export function certReqs(): MqttValueParser<MqttCertReqs> {
  return (_key, raw) => {
    if (isUnset(raw)) return UNSET;
    if (typeof raw === 'string' || typeof raw === 'number') {
      const word = String(raw)
        .trim()
        .toUpperCase()
        .replace(/^SSL\./, '');
      for (const [name, number] of Object.entries(MQTT_CERT_REQS_NUMBERS)) {
        if (word === name || word === String(number)) return ok(name as MqttCertReqs);
      }
    }
    return fail(messages.invalidCertReqs(raw));
  };
}

const TLS_VERSIONS: Readonly<Record<string, MqttTlsVersionSetting>> = Object.freeze({
  TLSV1: 'TLSv1',
  'TLSV1.0': 'TLSv1',
  'TLSV1.1': 'TLSv1.1',
  'TLSV1.2': 'TLSv1.2',
  'TLSV1.3': 'TLSv1.3',
  PROTOCOL_TLSV1: 'TLSv1',
  PROTOCOL_TLSV1_1: 'TLSv1.1',
  PROTOCOL_TLSV1_2: 'TLSv1.2',
  PROTOCOL_TLSV1_3: 'TLSv1.3',
  TLS: 'TLS',
  PROTOCOL_TLS: 'TLS',
  PROTOCOL_TLS_CLIENT: 'TLS',
  // Python's old alias of PROTOCOL_TLS: "the highest version both sides support".
  PROTOCOL_SSLV23: 'TLS',
});

/**
 * `MQTT_TLS_VERSION`: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, Python's `PROTOCOL_TLSv1_2` and
 * the like (any case, `ssl.` prefix allowed), or PROTOCOL_TLS / PROTOCOL_TLS_CLIENT /
 * TLS, which pin no version (`'TLS'`).
 */
export function tlsVersion(): MqttValueParser<MqttTlsVersionSetting> {
  return (_key, raw) => {
    if (isUnset(raw)) return UNSET;
    if (typeof raw === 'string') {
      const word = raw
        .trim()
        .toUpperCase()
        .replace(/^SSL\./, '');
      const version = TLS_VERSIONS[word];
      if (version !== undefined) return ok(version);
      if (/^(PROTOCOL_)?SSLV[23]$/.test(word)) return fail(messages.sslVersionUnsupported(raw));
    }
    return fail(messages.invalidTlsVersion(raw));
  };
}

function checkUtf8(key: string, value: string): MqttValueResult<string> {
  if (value.includes('\u0000')) return fail(messages.hasNulCharacter(key, value));
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MQTT_MAX_STRING_BYTES) {
    return fail(messages.tooLong(key, bytes, MQTT_MAX_STRING_BYTES, value));
  }
  return ok(value);
}

/** A topic name one can publish to: no `+` or `#`, no NUL, at most 65535 bytes. Not trimmed. */
export function topicName(): MqttValueParser<string> {
  return (key, raw) => {
    if (isUnset(raw)) return UNSET;
    if (typeof raw !== 'string') return fail(messages.notString(key, raw));
    if (/[+#]/.test(raw)) return fail(messages.topicHasWildcard(key, raw));
    return checkUtf8(key, raw);
  };
}

/** A shared-subscription group name: no `/`, `+` or `#`, no NUL. Not trimmed. */
export function sharedGroup(): MqttValueParser<string> {
  return (key, raw) => {
    if (isUnset(raw)) return UNSET;
    if (typeof raw !== 'string') return fail(messages.notString(key, raw));
    if (/[/+#]/.test(raw)) return fail(messages.invalidSharedGroup(raw));
    return checkUtf8(key, raw);
  };
}

/** A websocket path: starts with `/`, no white space. Trimmed. */
export function wsPath(): MqttValueParser<string> {
  return (key, raw) => {
    if (isUnset(raw)) return UNSET;
    if (typeof raw !== 'string') return fail(messages.notString(key, raw));
    const value = raw.trim();
    if (!value.startsWith('/') || /\s/.test(value)) return fail(messages.invalidWsPath(raw));
    return ok(value);
  };
}

/** The will payload: a string (not trimmed), a finite number or a Buffer; at most 65535 bytes. */
export function willPayload(): MqttValueParser<string | number | Buffer> {
  return (key, raw) => {
    if (isUnset(raw)) return UNSET;
    let bytes: number;
    if (typeof raw === 'string') bytes = Buffer.byteLength(raw, 'utf8');
    else if (typeof raw === 'number' && Number.isFinite(raw)) bytes = String(raw).length;
    else if (Buffer.isBuffer(raw)) bytes = raw.length;
    else return fail(messages.invalidWillPayload(raw));
    if (bytes > MQTT_MAX_STRING_BYTES) {
      return fail(messages.tooLong(key, bytes, MQTT_MAX_STRING_BYTES, raw));
    }
    return ok(raw);
  };
}

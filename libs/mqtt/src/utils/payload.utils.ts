import { isUtf8 } from 'node:buffer';
import { MqttPayloadError } from '../errors/mqtt-payload.error';
import { INVALID_PAYLOAD, PAYLOAD_NOT_UTF8 } from '../mqtt.messages';

/** What `MqttService.publish()` accepts as a payload. */
export type MqttPayload =
  | Buffer
  | Uint8Array
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly unknown[]
  | Record<string, unknown>
  | object;

/**
 * Turns a payload into the bytes to send: Buffers and strings as they are, numbers and booleans
 * as their text, null/undefined as an empty payload, plain objects, arrays and class instances as
 * JSON. Throws a TypeError for what JSON would silently mangle (functions, symbols, Map, Set).
 */
export function encodePayload(payload: MqttPayload): Buffer | string {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload;
  switch (typeof payload) {
    case 'number':
      if (!Number.isFinite(payload)) throw new TypeError(INVALID_PAYLOAD(`number ${payload}`));
      return String(payload);
    case 'boolean':
      return payload ? 'true' : 'false';
    case 'bigint':
      return String(payload);
    case 'undefined':
      return '';
    case 'object':
      if (payload === null) return '';
      if (payload instanceof Uint8Array) {
        return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      }
      if (payload instanceof Map || payload instanceof Set || payload instanceof WeakMap) {
        throw new TypeError(INVALID_PAYLOAD(payload.constructor.name));
      }
      return JSON.stringify(payload);
    default:
      throw new TypeError(INVALID_PAYLOAD(typeof payload));
  }
}

/**
 * The payload as UTF-8 text; throws `MqttPayloadError` for bytes that are not valid UTF-8 rather
 * than handing over text with U+FFFD in place of what was sent.
 */
export function utf8Text(payload: Buffer, wanted: string): string {
  const text = payload.toString('utf8');
  // Decoding puts U+FFFD where bytes are not UTF-8, so text without it came from valid bytes;
  // only text with one is checked byte by byte (the sender may have sent a real U+FFFD). The
  // search is near free on text that is all Latin-1, which V8 stores one byte per character.
  if (text.indexOf(REPLACEMENT_CHARACTER) !== -1 && !isUtf8(payload)) {
    throw new MqttPayloadError(PAYLOAD_NOT_UTF8(wanted));
  }
  return text;
}

const REPLACEMENT_CHARACTER = '\uFFFD';

/** The payload as JSON when it parses, else as UTF-8 text: the default decoding. */
export function decodePayload(payload: Buffer): unknown {
  const text = utf8Text(payload, 'text or JSON');
  const first = text.charCodeAt(0);
  // Only try JSON for what can be JSON, so plain text does not pay for a thrown SyntaxError.
  if (
    first === 123 /* { */ ||
    first === 91 /* [ */ ||
    first === 34 /* " */ ||
    first === 45 /* - */ ||
    (first >= 48 && first <= 57) ||
    text === 'true' ||
    text === 'false' ||
    text === 'null'
  ) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A short, printable preview of a payload for log lines. */
export function previewPayload(payload: Buffer, max = 200): string {
  const text = payload.subarray(0, max).toString('utf8');
  const printable = /^[\x20-\x7e\s\u00a0-\uffff]*$/.test(text);
  const shown = printable ? JSON.stringify(text) : `<${payload.length} bytes, binary>`;
  return payload.length > max && printable ? `${shown}... (${payload.length} bytes)` : shown;
}

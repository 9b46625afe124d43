import { MqttConnectionError } from '../errors/mqtt-connection.error';
import * as messages from '../mqtt.messages';
import { MQTT5_REFUSED } from './connection.messages';

/** Connection refusal reasons of MQTT 3.1.1 (CONNACK return codes 1-5). */
const V3_REFUSALS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
]);

/** Certificate and handshake errors: the broker was reached, TLS settings are to blame. */
function isTlsError(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('CERT_') ||
    code.startsWith('UNABLE_TO_') ||
    code.includes('SELF_SIGNED') ||
    code === 'EPROTO' ||
    code === 'HOSTNAME_MISMATCH'
  );
}

/** The broker's reason for a refusal, without MQTT.js's "Connection refused: " prefix. */
function refusalReason(error: Error, code: number, protocolVersion: number): string {
  if (protocolVersion !== 5 && V3_REFUSALS[code]) return V3_REFUSALS[code];
  return error.message
    .replace(/^Connection refused: /, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

/**
 * Sorts an error of the connection attempt: refused by the broker (a number code), a TLS
 * failure, or the broker not reached; each text says which settings to check.
 */
export function classifyConnectError(
  error: Error & { code?: string | number },
  where: { url: string; hostPort: string; protocolVersion: number },
): MqttConnectionError {
  const code = error.code;
  // A 3.1.1 broker answers an MQTT 5 CONNECT with return code 1 (NATS); an MQTT 5 broker
  // without MQTT 5 enabled with 0x84 Unsupported Protocol Version.
  if (where.protocolVersion === 5 && (code === 1 || code === 0x84)) {
    return new MqttConnectionError(MQTT5_REFUSED(where.hostPort), code, { cause: error });
  }
  if (typeof code === 'number') {
    const reason = refusalReason(error, code, where.protocolVersion);
    return new MqttConnectionError(messages.CONNECT_REFUSED(where.url, reason), code, {
      cause: error,
    });
  }
  if (typeof code === 'string' && isTlsError(code)) {
    return new MqttConnectionError(
      messages.CONNECT_TLS_FAILED(where.hostPort, `${error.message} (${code})`),
      undefined,
      { cause: error },
    );
  }
  const reason =
    typeof code === 'string' && NETWORK_ERRORS.has(code)
      ? `${code} (${error.message})`
      : error.message;
  return new MqttConnectionError(messages.CONNECT_UNREACHABLE(where.hostPort, reason), undefined, {
    cause: error,
  });
}

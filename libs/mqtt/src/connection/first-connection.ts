import type { MqttClient } from 'mqtt';
import { MqttConnectionError } from '../errors/mqtt-connection.error';
import * as messages from '../mqtt.messages';
import { MQTT5_REFUSED } from './connection.messages';
import { currentBroker } from './current-broker';

/** What the first connection attempt needs to know and report. */
export interface FirstConnection {
  readonly client: MqttClient;
  readonly hostPort: string;
  readonly timeoutMs: number;
  /** The SUBACKs of the subscriptions sent on CONNACK (read once CONNACK came). */
  readonly ready: () => Promise<void>;
  /** The last error of the socket, which MQTT.js does not always re-emit. */
  readonly lastStreamError: () => (Error & { code?: string }) | undefined;
  /** Turns an error into the error to report (refusal, TLS, unreachable). */
  readonly describe: (error: Error & { code?: string | number }) => MqttConnectionError;
  /** Whether the CONNECT is MQTT 5: a close without CONNACK then means "no MQTT 5 here". */
  readonly mqtt5?: boolean;
  /** When the current socket was opened (ms since the epoch). */
  readonly streamOpenedAt?: () => number;
}

/**
 * Starts connecting and resolves after CONNACK and the first SUBACKs, or rejects, within
 * MQTT_CONNECTION_TIMEOUT in all.
 */
export function awaitFirstConnection(first: FirstConnection): Promise<void> {
  const { client, hostPort, timeoutMs } = first;
  return new Promise<void>((resolve, reject) => {
    let connected = false;
    const detach = () => {
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('close', onClose);
    };
    const onConnect = () => {
      connected = true;
      detach();
      first.ready().then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    };
    const onError = (error: Error & { code?: string | number }) => {
      clearTimeout(timer);
      detach();
      reject(first.describe(error));
    };
    // MQTT.js re-emits only a few socket errors; a refused websocket upgrade or a TLS alert
    // after the handshake just closes the stream. Report that error instead of waiting.
    const onClose = () => {
      const last = first.lastStreamError();
      if (last) onError(last);
      // Closed without CONNACK and without a socket error, well before MQTT.js's own connect
      // timeout: what a broker that does not speak MQTT 5 (RabbitMQ 3.x) does.
      else if (first.mqtt5 && Date.now() - (first.streamOpenedAt?.() ?? 0) < timeoutMs - 100) {
        clearTimeout(timer);
        detach();
        reject(new MqttConnectionError(MQTT5_REFUSED(currentBroker(client))));
      }
    };
    const timer = setTimeout(() => {
      detach();
      const seconds = timeoutMs / 1000;
      reject(
        new MqttConnectionError(
          connected
            ? messages.SUBACK_TIMEOUT(hostPort, seconds)
            : messages.CONNECT_TIMEOUT(hostPort, seconds, first.lastStreamError()?.message),
        ),
      );
    }, timeoutMs);
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
    try {
      client.connect();
    } catch (error) {
      onError(error as Error);
    }
  });
}

import { createServer, type AddressInfo, type Socket } from 'node:net';
import type Aedes from 'aedes';
import type { AedesOptions } from 'aedes';
import { topicMatches } from '../routing/topic.utils';
import * as messages from './mqtt-testing.messages';
import { tapAcknowledgements, type MqttAcknowledgedMessage } from './mqtt-wire-tap';

export type { MqttAcknowledgedMessage } from './mqtt-wire-tap';

/** A message seen by the test broker: what a client published, as the broker received it. */
export interface MqttCapturedMessage {
  /** Client id of the publisher. */
  readonly clientId: string;
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  /** `payload` parsed as JSON, or `undefined` when it is not JSON. */
  readonly json: unknown;
  /** `payload` as UTF-8 text. */
  readonly text: string;
}

/** Options of {@link startMqttTestBroker}. */
export interface MqttTestBrokerOptions {
  /**
   * Options passed to the aedes constructor (`authenticate`, `authorizePublish`, ...).
   * @default {}
   */
  readonly aedes?: AedesOptions;
}

/** An in-process MQTT 3.1.1 broker (aedes) on 127.0.0.1, made by {@link startMqttTestBroker}. */
export interface MqttTestBroker {
  /** Always `127.0.0.1`. */
  readonly host: '127.0.0.1';
  /** The free TCP port the broker listens on. */
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** The aedes instance, for its events and options. */
  readonly aedes: Aedes;
  /**
   * Every PUBLISH a client sent and the broker accepted since it started (a live array, in
   * arrival order), recorded before the broker acknowledged it to the publisher; publishes made
   * by the broker itself (`publish()`, `$SYS`) are not in it.
   */
  readonly captured: readonly MqttCapturedMessage[];
  /**
   * Every QoS 1 / 2 message the broker delivered and a client acknowledged (PUBACK / PUBCOMP),
   * in the order of the acknowledgements (a live array).
   */
  readonly acknowledged: readonly MqttAcknowledgedMessage[];
  /** Calls `listener` after each new entry of `captured` or `acknowledged`; returns its remover. */
  readonly onChange: (listener: () => void) => () => void;
  /**
   * Publishes as the broker itself (no client connection involved), to every matching
   * subscriber. Resolves once the broker has routed the message to its subscribers' queues.
   * @param payload A Buffer or string as is; anything else as JSON.
   */
  publish(
    topic: string,
    payload?: unknown,
    options?: { qos?: 0 | 1 | 2; retain?: boolean },
  ): Promise<void>;
  /** Closes the broker, its server and every client connection; safe to call twice. */
  stop(): Promise<void>;
}

/** Encodes a payload as the testing kit sends it: Buffer / string as is, the rest as JSON. */
export function encodeTestPayload(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload);
  if (payload === undefined || payload === null) return Buffer.alloc(0);
  return Buffer.from(JSON.stringify(payload));
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Messages published by clients whose id is `clientId` (any client when undefined) matching `filter`. */
export function capturedMatching(
  captured: readonly MqttCapturedMessage[],
  filter: string,
  clientId?: string,
): MqttCapturedMessage[] {
  return captured.filter(
    (m) => (clientId === undefined || m.clientId === clientId) && topicMatches(filter, m.topic),
  );
}

async function loadAedes(): Promise<typeof Aedes> {
  try {
    // A CommonJS module: its `module.exports` (the constructor) is the default export.
    return (await import('aedes')).default as unknown as typeof Aedes;
  } catch (error) {
    throw new Error(messages.AEDES_MISSING((error as Error).message), { cause: error });
  }
}

/**
 * Starts an aedes broker inside the test process on a free port of 127.0.0.1, with Nagle's
 * algorithm off on every connection (small packets are not held back 40 ms), and records what
 * clients publish. Speaks MQTT 3.1.1 (aedes has no MQTT 5). Stop it with `stop()`.
 *
 * Needs the `aedes` package (an optional peer dependency of nestjs-mqtt): `npm i -D aedes`.
 */
export async function startMqttTestBroker(
  options: MqttTestBrokerOptions = {},
): Promise<MqttTestBroker> {
  const AedesBroker = await loadAedes();
  const aedes = new AedesBroker(options.aedes);
  const captured: MqttCapturedMessage[] = [];
  const acknowledged: MqttAcknowledgedMessage[] = [];
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of [...listeners]) listener();
  };
  // Recorded when the broker accepts a PUBLISH, before it acknowledges it to the publisher (its
  // 'publish' event comes only after routing, which can be after the PUBACK).
  const authorize = aedes.authorizePublish.bind(aedes);
  aedes.authorizePublish = (client, packet, callback) =>
    authorize(client, packet, (error) => {
      if (!error && client) {
        const payload = Buffer.isBuffer(packet.payload)
          ? packet.payload
          : Buffer.from(packet.payload ?? '');
        captured.push({
          clientId: client.id,
          topic: packet.topic,
          payload,
          qos: packet.qos,
          retain: packet.retain,
          json: parseJson(payload),
          text: payload.toString('utf8'),
        });
        changed();
      }
      callback(error);
    });

  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    tapAcknowledgements(socket, (message) => {
      acknowledged.push(message);
      changed();
    });
    aedes.handle(socket);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    })());

  const publish: MqttTestBroker['publish'] = (topic, payload, { qos = 0, retain = false } = {}) => {
    if (qos !== 0 && qos !== 1 && qos !== 2) {
      return Promise.reject(new Error(messages.QOS_INVALID(qos)));
    }
    return new Promise<void>((resolve, reject) => {
      aedes.publish(
        { cmd: 'publish', topic, payload: encodeTestPayload(payload), qos, retain, dup: false },
        (error?: Error | null) => (error ? reject(error) : resolve()),
      );
    });
  };

  return {
    host: '127.0.0.1',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    aedes,
    captured,
    acknowledged,
    onChange: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    publish,
    stop,
  };
}

import type { Duplex } from 'node:stream';
import type { IPublishPacket, MqttClient, Packet } from 'mqtt';
import { writeToStream } from 'mqtt-packet';

/**
 * Every use of MQTT.js private members, in one place. MQTT.js offers no public way to
 * acknowledge a message later, to change the reconnect delay between attempts, or to see the
 * error of a socket it does not re-emit. Each function here names what it relies on;
 * `assertMqttClientInternals()` checks all of it when a client is built, and the contract spec
 * beside this file fails loudly when an MQTT.js upgrade changes any of it.
 */
interface Internals {
  /** The one place every packet goes to the socket (`client.js`, `_writePacket(packet, cb)`). */
  _writePacket: (this: unknown, packet: Packet, cb?: (error?: Error) => void) => void;
  _sendPacket(packet: Record<string, unknown>, cb: () => void): void;
  _releaseIncomingQoS2Publish(messageId: number): void;
  incomingStore: { del(packet: IPublishPacket, cb: () => void): unknown };
  streamBuilder: (client: MqttClient) => Duplex;
  reconnectTimer: unknown;
  _clearReconnect(): void;
  _setupReconnect(): void;
  options: MqttClient['options'];
  /** The callback MQTT.js passes when nobody waits (`client.js`, `this.noop`). */
  noop: (error?: Error) => void;
  stream: Duplex;
  log: (...args: unknown[]) => void;
}

/** The MQTT.js versions whose internals this file was written against (and CI tests). */
export const MQTT_JS_TESTED_RANGE = '>=5.16.0 <6';

const REQUIRED = [
  ['_writePacket', 'function'],
  ['_sendPacket', 'function'],
  ['_releaseIncomingQoS2Publish', 'function'],
  ['incomingStore', 'object'],
  ['streamBuilder', 'function'],
  ['_clearReconnect', 'function'],
  ['_setupReconnect', 'function'],
  ['noop', 'function'],
  ['log', 'function'],
] as const;

/**
 * The private members this module needs that `client` lacks; empty when all are there.
 * The module refuses to start with a client that lacks any (no silent fallback).
 */
export function missingMqttClientInternals(client: MqttClient): string[] {
  const raw = client as unknown as Record<string, unknown>;
  const missing: string[] = REQUIRED.filter(([name, type]) => typeof raw[name] !== type).map(
    ([name]) => name,
  );
  const store = raw.incomingStore as { del?: unknown } | undefined;
  if (typeof store?.del !== 'function') missing.push('incomingStore.del');
  return missing;
}

/** Sends the PUBACK (QoS 1) or PUBCOMP (QoS 2) of a received message that MQTT.js left to us. */
export function sendDeferredAck(client: MqttClient, packet: IPublishPacket): void {
  const raw = client as unknown as Internals;
  const messageId = packet.messageId as number;
  raw._sendPacket(
    packet.qos === 1
      ? { cmd: 'puback', messageId, reasonCode: 0 }
      : { cmd: 'pubcomp', messageId, reasonCode: 0 },
    noop,
  );
}

/**
 * Forgets a handled QoS 2 message as MQTT.js would before its PUBCOMP, whether or not the
 * connection is up: a PUBREL repeated after a reconnect then gets its PUBCOMP without a rerun.
 */
export function releaseIncomingQos2(client: MqttClient, packet: IPublishPacket): void {
  const raw = client as unknown as Internals;
  raw.incomingStore.del(packet, noop);
  raw._releaseIncomingQoS2Publish(packet.messageId as number);
}

/**
 * One `drain` listener per socket for every write callback that waits for it. MQTT.js's
 * `_writePacket` adds a `once('drain', cb)` for each packet written while the socket's buffer is
 * full: with a thousand publishes outstanding, a drain then removes a thousand listeners one at
 * a time, each removal a scan of the list (in a QoS 0 publish burst the module's CPU per message
 * fell from ~4.2 to ~2.3 µs without it; raw MQTT.js spends ~3.7). Replaces the client's
 * `_writePacket` (on this instance only) with the same steps (`packetsend`, `writeToStream`,
 * the callback at once when the write did not fill the buffer) and one listener per socket
 * that calls the waiting callbacks in write order; those of a socket that never drains are
 * never called, as with MQTT.js. Returns a function that undoes it. The contract spec checks
 * that MQTT.js's own `_writePacket` still does what this replaces.
 */
export function batchDrainCallbacks(client: MqttClient): () => void {
  const raw = client as unknown as Internals;
  const original = raw._writePacket;
  type Batch = { stream: Duplex; callbacks: Array<() => void> };
  let batch: Batch | undefined;
  raw._writePacket = (packet, cb) => {
    raw.log('_writePacket :: packet: %O', packet);
    client.emit('packetsend', packet);
    const stream = raw.stream;
    const written = writeToStream(packet, stream, raw.options);
    if (!cb) return;
    if (written || cb === raw.noop) {
      cb();
      return;
    }
    let current = batch;
    if (current?.stream !== stream) {
      const started: Batch = { stream, callbacks: [] };
      batch = current = started;
      stream.once('drain', () => {
        if (batch === started) batch = undefined;
        for (const waiting of started.callbacks) waiting();
      });
    }
    current.callbacks.push(cb);
  };
  return () => {
    raw._writePacket = original;
  };
}

/** Calls `onStream` with each socket MQTT.js opens, before it is used. */
export function watchStreams(client: MqttClient, onStream: (stream: Duplex) => void): void {
  const raw = client as unknown as Internals;
  const build = raw.streamBuilder;
  raw.streamBuilder = (c) => {
    const stream = build(c);
    onStream(stream);
    return stream;
  };
}

/**
 * Sets the delay before MQTT.js's next reconnect attempt. MQTT.js retries on a fixed
 * interval of `options.reconnectPeriod`; re-arming its timer with a new period gives backoff.
 */
export function rearmReconnect(client: MqttClient, delayMs: number): void {
  const raw = client as unknown as Internals;
  raw.options.reconnectPeriod = delayMs;
  if (raw.reconnectTimer) {
    raw._clearReconnect();
    raw._setupReconnect();
  }
}

/** Makes sure MQTT.js never arms another reconnect (shutdown). */
export function stopReconnecting(client: MqttClient): void {
  const raw = client as unknown as Internals;
  raw.options.reconnectPeriod = 0;
  raw._clearReconnect();
  client.reconnecting = false;
}

/**
 * MQTT-3.3.1-1: sets DUP=1 on every QoS 1/2 PUBLISH that `client` writes a second time (MQTT.js
 * 5.16 resends unacknowledged ones from its outgoing store on reconnect, in `_onConnect`, with
 * DUP=0). A packet id counts as written from its first write until the broker answers it
 * (PUBACK, PUBREC, PUBCOMP), so a message published while offline goes out first with DUP=0.
 * PUBREL never carries DUP (its flags are fixed at 0b0010, MQTT-3.6.1-1; mqtt-packet would set
 * the bit if asked). Wraps the client's `_writePacket` (on this instance only); returns a
 * function that undoes it. It listens to `packetreceive` only while a written packet awaits its
 * answer: a client that only receives pays nothing per packet.
 */
export function markRedeliveries(client: MqttClient): () => void {
  const raw = client as unknown as Internals;
  const write = raw._writePacket;
  const written = new Set<number>();
  raw._writePacket = function (this: unknown, packet: Packet, cb?: (error?: Error) => void) {
    let out = packet;
    if (packet.cmd === 'publish' && packet.qos > 0 && packet.messageId !== undefined) {
      if (written.has(packet.messageId)) {
        if (!packet.dup) out = { ...packet, dup: true };
      } else {
        if (written.size === 0) client.on('packetreceive', onAnswer);
        written.add(packet.messageId);
      }
    } else if (packet.cmd === 'pubrel' && (packet as { dup?: boolean }).dup) {
      out = { ...packet, dup: false } as Packet;
    }
    write.call(this, out, cb);
  };
  const onAnswer = (packet: Packet) => {
    const answered = packet.cmd === 'puback' || packet.cmd === 'pubrec' || packet.cmd === 'pubcomp';
    if (answered && packet.messageId !== undefined && written.delete(packet.messageId)) {
      if (written.size === 0) client.off('packetreceive', onAnswer);
    }
  };
  return () => {
    raw._writePacket = write;
    client.off('packetreceive', onAnswer);
  };
}

function noop(): void {}

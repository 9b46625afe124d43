/**
 * Every private member of MQTT.js (5.16) the connection layer relies on, in this one file.
 * `mqtt-client.internals.spec.ts` proves each assumption against the installed MQTT.js and fails
 * loudly when an upgrade changes one; {@link assertMqttClientInternals} checks at run time, so a
 * changed MQTT.js is an error at startup, never a silent fallback.
 */
import type { IPublishPacket, MqttClient, Packet } from 'mqtt';
import type { Duplex } from 'node:stream';

/** The private members used here (node_modules/mqtt/build/lib/client.js). */
interface ClientInternals {
  /** The one place every packet goes to the socket (`client.js`, `_writePacket(packet, cb)`). */
  _writePacket(packet: Packet, cb?: (error?: Error) => void): void;
  /** Sends a packet, storing QoS 1/2 PUBLISH and PUBREL in the outgoing store. */
  _sendPacket(packet: Packet, cb?: (error?: Error) => void): void;
  /** Forgets an inbound QoS 2 message id (before its PUBCOMP). */
  _releaseIncomingQoS2Publish(messageId: number): void;
  incomingStore: { del(packet: { messageId?: number }, cb: (error?: Error) => void): unknown };
  streamBuilder: (client: MqttClient) => Duplex;
}

const REQUIRED: ReadonlyArray<keyof ClientInternals> = [
  '_writePacket',
  '_sendPacket',
  '_releaseIncomingQoS2Publish',
  'streamBuilder',
];

/** What {@link assertMqttClientInternals} throws: MQTT.js changed under the module. */
export class MqttClientInternalsError extends Error {
  override readonly name = 'MqttClientInternalsError';
}

function internals(client: MqttClient): ClientInternals {
  return client as unknown as ClientInternals;
}

function noop(): void {}

/**
 * Throws when `client` lacks a private member this file uses: the installed MQTT.js is not one
 * the module was built for. Call it once per client, right after creating it.
 */
export function assertMqttClientInternals(client: MqttClient): void {
  const raw = client as unknown as Record<string, unknown>;
  const missing = REQUIRED.filter((name) => typeof raw[name] !== 'function');
  if (typeof internals(client).incomingStore?.del !== 'function') missing.push('incomingStore');
  if (missing.length > 0) {
    throw new MqttClientInternalsError(
      `The installed MQTT.js lacks ${missing.join(', ')}, which nestjs-mqtt relies on (built for mqtt 5.16). Install a version of mqtt that nestjs-mqtt supports.`,
    );
  }
}

/**
 * MQTT-3.3.1-1: sets DUP=1 on every QoS 1/2 PUBLISH that `client` writes a second time (MQTT.js
 * resends unacknowledged ones from its outgoing store on reconnect, with DUP=0). A packet id
 * counts as written from its first write until the broker answers it (PUBACK, PUBREC, PUBCOMP),
 * so a message published while offline goes out first with DUP=0. PUBREL never carries DUP
 * (its flags are fixed at 0b0010, MQTT-3.6.1-1). Patches the client's `_writePacket` (one
 * function, on this instance only); returns a function that undoes it.
 */
export function markRedeliveries(client: MqttClient): () => void {
  const raw = internals(client);
  const write = raw._writePacket;
  const written = new Set<number>();
  raw._writePacket = function (this: unknown, packet: Packet, cb?: (error?: Error) => void) {
    let out = packet;
    if (packet.cmd === 'publish' && packet.qos > 0 && packet.messageId !== undefined) {
      if (written.has(packet.messageId)) {
        if (!packet.dup) out = { ...packet, dup: true };
      } else {
        written.add(packet.messageId);
      }
    } else if (packet.cmd === 'pubrel' && (packet as { dup?: boolean }).dup) {
      out = { ...packet, dup: false } as Packet;
    }
    write.call(this, out, cb);
  };
  const onAck = (packet: Packet) => {
    if (
      (packet.cmd === 'puback' || packet.cmd === 'pubrec' || packet.cmd === 'pubcomp') &&
      packet.messageId !== undefined
    ) {
      written.delete(packet.messageId);
    }
  };
  client.on('packetreceive', onAck);
  return () => {
    raw._writePacket = write;
    client.off('packetreceive', onAck);
  };
}

/** Sends the PUBACK (QoS 1) or PUBCOMP (QoS 2) of an inbound message that MQTT.js left to us. */
export function sendAck(client: MqttClient, qos: 1 | 2, messageId: number): void {
  internals(client)._sendPacket(
    qos === 1 ? { cmd: 'puback', messageId, reasonCode: 0 } : { cmd: 'pubcomp', messageId },
    noop,
  );
}

/**
 * Forgets a handled inbound QoS 2 message as MQTT.js does before its PUBCOMP, so a PUBREL
 * repeated after a reconnect gets its PUBCOMP without the handlers running again.
 */
export function forgetIncomingQos2(client: MqttClient, packet: IPublishPacket): void {
  const raw = internals(client);
  raw.incomingStore.del(packet, noop);
  if (packet.messageId !== undefined) raw._releaseIncomingQoS2Publish(packet.messageId);
}

/** Calls `onStream` with every socket MQTT.js opens (it re-emits only some of their errors). */
export function watchStreams(client: MqttClient, onStream: (stream: Duplex) => void): void {
  const raw = internals(client);
  const build = raw.streamBuilder;
  raw.streamBuilder = (c) => {
    const stream = build(c);
    onStream(stream);
    return stream;
  };
}

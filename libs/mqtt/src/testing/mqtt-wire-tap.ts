import type { Socket } from 'node:net';
import { parser, type IPublishPacket, type Packet } from 'mqtt-packet';

/** A QoS 1 or 2 message the broker delivered to a client, and the client acknowledged. */
export interface MqttAcknowledgedMessage {
  /** Client id of the subscriber that acknowledged (PUBACK for QoS 1, PUBCOMP for QoS 2). */
  readonly clientId: string;
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 1 | 2;
}

/**
 * Reads the MQTT packets crossing one broker-side socket in both directions (aedes does not
 * report which delivery a clean-session client acknowledged): the PUBLISHes the broker writes
 * to the client, by packet id, and the PUBACK / PUBCOMP the client sends back. Calls `onAck`
 * with the delivery each acknowledgement is for.
 */
export function tapAcknowledgements(
  socket: Socket,
  onAck: (message: MqttAcknowledgedMessage) => void,
): void {
  let clientId = '';
  const inFlight = new Map<number, IPublishPacket>();

  const fromClient = parser();
  fromClient.on('packet', (packet: Packet) => {
    if (packet.cmd === 'connect') {
      clientId = packet.clientId;
      return;
    }
    if ((packet.cmd === 'puback' || packet.cmd === 'pubcomp') && packet.messageId !== undefined) {
      const delivered = inFlight.get(packet.messageId);
      if (!delivered) return;
      inFlight.delete(packet.messageId);
      onAck({
        clientId,
        topic: delivered.topic,
        payload: Buffer.from(delivered.payload),
        qos: delivered.qos as 1 | 2,
      });
    }
  });
  const toClient = parser();
  toClient.on('packet', (packet: Packet) => {
    if (packet.cmd === 'publish' && packet.qos > 0 && packet.messageId !== undefined) {
      inFlight.set(packet.messageId, packet);
    }
  });
  // A malformed packet is the broker's business (it drops the client); the tap just stops.
  fromClient.on('error', () => fromClient.removeAllListeners('packet'));
  toClient.on('error', () => toClient.removeAllListeners('packet'));

  // aedes reads with read(): each chunk it takes is also emitted as 'data', without switching
  // the socket to flowing mode.
  socket.on('data', (chunk: Buffer) => fromClient.parse(chunk));
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  const tapped = (chunk: unknown, ...rest: unknown[]): boolean => {
    if (Buffer.isBuffer(chunk)) toClient.parse(chunk);
    else if (typeof chunk === 'string') toClient.parse(Buffer.from(chunk));
    return write(chunk, ...rest);
  };
  socket.write = tapped;
}

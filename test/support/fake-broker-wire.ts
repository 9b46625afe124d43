/**
 * The wire side of the fake broker: cuts a TCP byte stream into MQTT packets (keeping each
 * packet's raw bytes), parses them with mqtt-packet, and names the fixed-header bits.
 */
import { parser as mqttParser, type Packet } from 'mqtt-packet';

/** One packet the client sent, parsed, with the exact bytes it arrived as. */
export interface WirePacket {
  /** Which connection of the broker it came on: 1 for the first, 2 after a reconnect, ... */
  readonly connection: number;
  readonly packet: Packet;
  /** The whole packet: fixed header, remaining length, variable header and payload. */
  readonly raw: Buffer;
}

/** One packet on the wire, either way: from the client (`in`) or from the broker (`out`). */
export interface TimelineEntry {
  readonly dir: 'in' | 'out';
  readonly connection: number;
  readonly packet: Packet;
}

/**
 * The most QoS 1/2 PUBLISHes the client had unacknowledged at once on each connection
 * (MQTT-3.3.4-7): a PUBLISH counts from its arrival until the broker's PUBACK, PUBCOMP, or
 * PUBREC with a reason code of 0x80 or more.
 */
export function maxInFlight(timeline: readonly TimelineEntry[]): number {
  let max = 0;
  const open = new Map<number, Set<number>>();
  for (const { dir, connection, packet } of timeline) {
    const ids = open.get(connection) ?? new Set<number>();
    open.set(connection, ids);
    if (dir === 'in' && packet.cmd === 'publish' && packet.qos > 0) ids.add(packet.messageId!);
    const done =
      packet.cmd === 'puback' ||
      packet.cmd === 'pubcomp' ||
      (packet.cmd === 'pubrec' && (packet.reasonCode ?? 0) >= 0x80);
    if (dir === 'out' && done) ids.delete(packet.messageId!);
    max = Math.max(max, ids.size);
  }
  return max;
}

/** The DUP flag of a raw PUBLISH (bit 3 of the first byte, MQTT-3.3.1-1). */
export function dupBit(raw: Buffer): 0 | 1 {
  return ((raw[0] >> 3) & 1) as 0 | 1;
}

/** The four flag bits of a raw packet's first byte (PUBREL must be 0b0010, MQTT-3.6.1-1). */
export function flagBits(raw: Buffer): number {
  return raw[0] & 0x0f;
}

/** The MQTT control packet type of a raw packet (3 PUBLISH, 6 PUBREL, 8 SUBSCRIBE, ...). */
export function packetType(raw: Buffer): number {
  return raw[0] >> 4;
}

/**
 * Cuts incoming bytes into whole packets and parses each one; `onPacket` gets them in order.
 * The protocol version is taken from the CONNECT, so MQTT 5 properties are parsed after it.
 */
export class PacketReader {
  private pending: Buffer = Buffer.alloc(0);
  private parser = mqttParser({ protocolVersion: 4 });
  private parsed: Packet[] = [];

  constructor(private readonly onPacket: (packet: Packet, raw: Buffer) => void) {
    this.wire();
  }

  /** Feeds bytes from the socket; throws on a malformed packet. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const size = wholePacketSize(this.pending);
      if (size === undefined) return;
      const raw = Buffer.from(this.pending.subarray(0, size));
      this.pending = this.pending.subarray(size);
      this.parser.parse(raw);
      const packet = this.parsed.shift();
      if (!packet) throw new Error(`fake broker: could not parse ${raw.toString('hex')}`);
      if (packet.cmd === 'connect') {
        this.parser = mqttParser({ protocolVersion: packet.protocolVersion ?? 4 });
        this.wire();
      }
      this.onPacket(packet, raw);
    }
  }

  private wire(): void {
    this.parser.on('packet', (packet: Packet) => this.parsed.push(packet));
    this.parser.on('error', (error: Error) => {
      throw error;
    });
  }
}

/** The size of the first packet in `bytes` when all of it is there; otherwise undefined. */
function wholePacketSize(bytes: Buffer): number | undefined {
  let remaining = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (i >= bytes.length) return undefined;
    const byte = bytes[i];
    remaining += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) {
      const total = 1 + i + remaining;
      return bytes.length >= total ? total : undefined;
    }
  }
  throw new Error('fake broker: malformed remaining length');
}

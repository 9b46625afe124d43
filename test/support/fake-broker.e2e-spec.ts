/**
 * Self-test of the fake broker's wire side: packets cut from any chunking of the byte stream,
 * raw bytes kept exactly, flag helpers, and the in-flight count of a timeline.
 */
import { generate, type Packet } from 'mqtt-packet';

import {
  dupBit,
  flagBits,
  maxInFlight,
  packetType,
  PacketReader,
  type TimelineEntry,
} from './fake-broker';

const v5 = { protocolVersion: 5 } as const;
const connect = generate(
  { cmd: 'connect', clientId: 'c', protocolVersion: 5, properties: { sessionExpiryInterval: 9 } },
  v5,
);
const publish = generate(
  {
    cmd: 'publish',
    topic: 'a/b',
    payload: Buffer.alloc(300, 1),
    qos: 1,
    dup: true,
    retain: false,
    messageId: 4,
  },
  v5,
);
const pubrel = generate({ cmd: 'pubrel', messageId: 4 }, v5);

function read(chunks: Buffer[]): Array<{ packet: Packet; raw: Buffer }> {
  const seen: Array<{ packet: Packet; raw: Buffer }> = [];
  const reader = new PacketReader((packet, raw) => seen.push({ packet, raw }));
  for (const chunk of chunks) reader.push(chunk);
  return seen;
}

describe('fake broker wire', () => {
  const stream = Buffer.concat([connect, publish, pubrel]);

  it.each([
    ['one chunk', [stream]],
    ['byte by byte', [...stream].map((b) => Buffer.from([b]))],
    [
      'split inside the remaining length',
      [stream.subarray(0, connect.length + 2), stream.subarray(connect.length + 2)],
    ],
  ])('cuts packets from %s, keeping their raw bytes', (_name, chunks) => {
    const seen = read(chunks);
    expect(seen.map((s) => s.packet.cmd)).toEqual(['connect', 'publish', 'pubrel']);
    expect(seen.map((s) => s.raw)).toEqual([connect, publish, pubrel]);
    // MQTT 5 properties are parsed once the CONNECT named the version.
    expect((seen[0].packet as { properties?: object }).properties).toEqual({
      sessionExpiryInterval: 9,
    });
  });

  it('names the fixed-header bits', () => {
    expect([packetType(publish), dupBit(publish), flagBits(publish)]).toEqual([3, 1, 0b1010]);
    expect([packetType(pubrel), flagBits(pubrel)]).toEqual([6, 0b0010]);
  });

  it('counts unacknowledged QoS 1/2 PUBLISHes per connection', () => {
    const pub = (connection: number, messageId: number): TimelineEntry => ({
      dir: 'in',
      connection,
      packet: {
        cmd: 'publish',
        topic: 't',
        payload: '',
        qos: 1,
        dup: false,
        retain: false,
        messageId,
      },
    });
    const ack = (connection: number, messageId: number): TimelineEntry => ({
      dir: 'out',
      connection,
      packet: { cmd: 'puback', messageId },
    });
    expect(maxInFlight([pub(1, 1), ack(1, 1), pub(1, 2), ack(1, 2)])).toBe(1);
    expect(maxInFlight([pub(1, 1), pub(1, 2), ack(1, 1), ack(1, 2)])).toBe(2);
    // A lost connection's unacknowledged ones do not count on the next.
    expect(maxInFlight([pub(1, 1), pub(2, 1), ack(2, 1), pub(2, 2)])).toBe(1);
  });
});

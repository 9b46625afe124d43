/**
 * A fake MQTT broker of our own, for proving protocol rules byte for byte (the way Mosquitto's
 * client tests do): it announces the CONNACK limits a test chooses, records every packet and the
 * raw bytes the client sends, answers (or withholds) acknowledgements on demand, sends chosen
 * PUBLISHes, drops connections without DISCONNECT and accepts the reconnects.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

import {
  generate,
  type IConnackPacket,
  type IConnectPacket,
  type IPublishPacket,
  type Packet,
} from 'mqtt-packet';

import { PacketReader, type TimelineEntry, type WirePacket } from './fake-broker-wire';
import { until } from './wait';

export * from './fake-broker-wire';

/** The CONNACK the broker answers with. */
export interface FakeConnack {
  readonly sessionPresent?: boolean;
  /** MQTT 5 reason code / 3.1.1 return code; default 0 (accepted). */
  readonly reasonCode?: number;
  /** MQTT 5 properties: the limits (maximumQoS, receiveMaximum, maximumPacketSize, ...). */
  readonly properties?: IConnackPacket['properties'];
}

/** Client packets the broker answers by itself unless told to hold them. */
export type AnsweredCommand = 'publish' | 'pubrel' | 'subscribe' | 'unsubscribe' | 'pingreq';

/** Options of {@link startFakeBroker}. */
export interface FakeBrokerOptions {
  /** The CONNACK for every connection, or per connection (`n` counts from 1). */
  readonly connack?: FakeConnack | ((connect: IConnectPacket, n: number) => FakeConnack);
  /** Commands whose answers (PUBACK/PUBREC, PUBCOMP, SUBACK, UNSUBACK, PINGRESP) are withheld. */
  readonly hold?: readonly AnsweredCommand[];
}

/** One TCP connection of a client to the fake broker. */
export interface FakeConnection {
  /** 1 for the first connection, 2 for the next, ... */
  readonly n: number;
  readonly socket: Socket;
  /** The client's CONNECT (undefined until it arrived). */
  connect?: IConnectPacket;
  /** What the client sent on this connection. */
  readonly packets: WirePacket[];
  readonly closed: Promise<void>;
}

/** A running fake broker; `stop()` it in afterAll. */
export interface FakeBroker {
  readonly port: number;
  /** Every connection so far, in order. */
  readonly connections: FakeConnection[];
  /** Every packet every client sent, in order. */
  readonly packets: WirePacket[];
  /** Client packets whose answers are withheld, in arrival order. */
  readonly held: WirePacket[];
  /** Both directions in order: what the client sent (`in`) and what the broker sent (`out`). */
  readonly timeline: TimelineEntry[];
  /** The latest connection, open or not. */
  readonly current: FakeConnection | undefined;
  /** The packets of one command (all connections, or connection `n`). */
  sent(cmd: Packet['cmd'], n?: number): WirePacket[];
  /** Changes the CONNACK of the next connections. */
  setConnack(connack: FakeBrokerOptions['connack']): void;
  /** Withholds the answers to `cmd` from now on. */
  hold(cmd: AnsweredCommand): void;
  /** Answers what was held of `cmd` (at most `count`, on the current connection); holds on. */
  answer(cmd: AnsweredCommand, count?: number): void;
  /** Answers `cmd` by itself again, and answers what was held (on the current connection). */
  release(cmd: AnsweredCommand): void;
  /** Sends a packet to the current connection (encoded with its protocol version). */
  send(packet: Packet): void;
  /** Sends a PUBLISH to the current connection; dup/retain default to false. */
  publish(packet: Omit<IPublishPacket, 'cmd' | 'dup' | 'retain'> & Partial<IPublishPacket>): void;
  /** Destroys the current connection without DISCONNECT (a lost link); resolves once closed. */
  drop(): Promise<void>;
  /** Resolves with the `count`-th connection once its CONNECT arrived. */
  connection(count: number, timeout?: number): Promise<FakeConnection>;
  /** Resolves once the client sent a packet `match` accepts; with that packet. */
  waitFor(what: string, match: (p: WirePacket) => boolean, timeout?: number): Promise<WirePacket>;
  stop(): Promise<void>;
}

const ANSWERS: Partial<Record<Packet['cmd'], AnsweredCommand>> = {
  publish: 'publish',
  pubrel: 'pubrel',
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  pingreq: 'pingreq',
};

/** Starts a fake broker on a free 127.0.0.1 port. */
export async function startFakeBroker(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
  let connackOption = options.connack;
  const holding = new Set<AnsweredCommand>(options.hold);
  const connections: FakeConnection[] = [];
  const packets: WirePacket[] = [];
  const held: WirePacket[] = [];
  const sockets = new Set<Socket>();
  const timeline: TimelineEntry[] = [];

  const versionOf = (c: FakeConnection | undefined) => c?.connect?.protocolVersion ?? 4;
  const write = (c: FakeConnection, packet: Packet) => {
    if (c.socket.destroyed) return;
    timeline.push({ dir: 'out', connection: c.n, packet });
    c.socket.write(generate(packet, { protocolVersion: versionOf(c) }));
  };

  /** The broker's answer to a client packet, if it has one. */
  const answerTo = (c: FakeConnection, packet: Packet): Packet | undefined => {
    const v5 = versionOf(c) === 5;
    switch (packet.cmd) {
      case 'publish':
        if (packet.qos === 0) return undefined;
        return { cmd: packet.qos === 1 ? 'puback' : 'pubrec', messageId: packet.messageId };
      case 'pubrel':
        return { cmd: 'pubcomp', messageId: packet.messageId };
      case 'subscribe': {
        const max = connackFor(c).properties?.maximumQoS ?? 2;
        const granted = packet.subscriptions.map((s) => Math.min(s.qos, max));
        return { cmd: 'suback', messageId: packet.messageId!, granted };
      }
      case 'unsubscribe':
        return {
          cmd: 'unsuback',
          messageId: packet.messageId!,
          granted: v5 ? packet.unsubscriptions.map(() => 0) : [],
        };
      case 'pingreq':
        return { cmd: 'pingresp' };
      default:
        return undefined;
    }
  };

  const connacks = new Map<FakeConnection, FakeConnack>();
  const connackFor = (c: FakeConnection): FakeConnack => connacks.get(c) ?? {};

  const onPacket = (c: FakeConnection, packet: Packet, raw: Buffer) => {
    const wire: WirePacket = { connection: c.n, packet, raw };
    c.packets.push(wire);
    packets.push(wire);
    timeline.push({ dir: 'in', connection: c.n, packet });
    if (packet.cmd === 'connect') {
      c.connect = packet;
      const chosen =
        typeof connackOption === 'function' ? connackOption(packet, c.n) : (connackOption ?? {});
      connacks.set(c, chosen);
      const code = chosen.reasonCode ?? 0;
      write(c, {
        cmd: 'connack',
        sessionPresent: chosen.sessionPresent ?? false,
        ...(packet.protocolVersion === 5
          ? { reasonCode: code, properties: chosen.properties }
          : { returnCode: code }),
      });
      return;
    }
    if (packet.cmd === 'disconnect') {
      c.socket.end();
      return;
    }
    const command = ANSWERS[packet.cmd];
    if (command && holding.has(command)) {
      held.push(wire);
      return;
    }
    const answer = answerTo(c, packet);
    if (answer) write(c, answer);
  };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let closedResolve!: () => void;
    const c: FakeConnection = {
      n: connections.length + 1,
      socket,
      packets: [],
      closed: new Promise<void>((resolve) => (closedResolve = resolve)),
    };
    connections.push(c);
    const reader = new PacketReader((packet, raw) => onPacket(c, packet, raw));
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      // Answers withheld on a lost connection are lost with it.
      for (let i = held.length - 1; i >= 0; i--) if (held[i].connection === c.n) held.splice(i, 1);
      closedResolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const current = () => connections[connections.length - 1];

  const broker: FakeBroker = {
    port,
    connections,
    packets,
    held,
    timeline,
    get current() {
      return current();
    },
    sent: (cmd, n) =>
      packets.filter((p) => p.packet.cmd === cmd && (n === undefined || p.connection === n)),
    setConnack: (connack) => (connackOption = connack),
    hold: (cmd) => holding.add(cmd),
    answer(cmd, count = Infinity) {
      const c = current();
      for (let i = 0; i < held.length && count > 0;) {
        if (ANSWERS[held[i].packet.cmd] !== cmd) {
          i++;
          continue;
        }
        const [wire] = held.splice(i, 1);
        count--;
        const answer = c && answerTo(c, wire.packet);
        if (c && answer) write(c, answer);
      }
    },
    release(cmd) {
      holding.delete(cmd);
      broker.answer(cmd);
    },
    send(packet) {
      const c = current();
      if (!c) throw new Error('fake broker: no connection to send to');
      write(c, packet);
    },
    publish(packet) {
      broker.send({ cmd: 'publish', dup: false, retain: false, ...packet });
    },
    async drop() {
      const c = current();
      if (!c) return;
      c.socket.destroy();
      await c.closed;
    },
    connection: (count, timeout = 5000) =>
      until(
        `connection ${count} to the fake broker`,
        () => (connections[count - 1]?.connect ? connections[count - 1] : undefined),
        timeout,
        () => connections.map((c) => ({ n: c.n, connected: !!c.connect })),
      ),
    waitFor: (what, match, timeout = 5000) =>
      until(
        what,
        () => packets.find(match),
        timeout,
        () => packets.map((p) => `${p.connection}:${p.packet.cmd}`).slice(-20),
      ),
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return broker;
}

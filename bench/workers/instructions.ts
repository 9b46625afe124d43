/**
 * The receive path, counted in machine instructions: run under `valgrind --tool=callgrind
 * --instr-atstart=no` by bench/src/scenarios/instructions.ts. An in-process fake broker (a TCP
 * server on loopback) answers CONNECT and SUBSCRIBE and then writes pre-encoded PUBLISH packets;
 * the contestant (`raw` MQTT.js or the `module`) receives them with the handler of a shape
 * (shared.HandlerShape). After warm-up feeds, callgrind counts only the measured feeds
 * (`callgrind_control -i on/off`). Instructions do not depend on what else the machine runs, so
 * this is the figure a shared, noisy machine cannot blur (cache misses and timing are not in it).
 *
 * Usage: node -r test/support/register-ts.js bench/workers/instructions.ts <raw|module>
 *        <device|dto> <other filters> <messages per feed>
 * Prints one JSON line: { messages, bad }.
 */
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { connect } from 'mqtt';
import * as mqttPacket from 'mqtt-packet';
import { otherFilters, PAYLOAD, type HandlerShape } from '../src/shared';
import type { MessageSink } from './drain-counter';
import { moduleAppModule, startModuleApp } from './module-app';
import { validateRawConfig } from './raw-config.dto';
import { rawHandler } from './raw-handler';

const [kind, shape, othersArg, perFeedArg] = process.argv.slice(2);
const others = otherFilters(Number(othersArg ?? 0));
const perFeed = Number(perFeedArg ?? 20000);
const WARM_FEEDS = 3;
const MEASURED_FEEDS = 2;

/**
 * As long as the topics of the devices and dto scenarios (`bench/<run id>/<group>/<tag>/…`):
 * parsing and routing pay per character, so short topics would flatter whoever pays more.
 */
const PREFIX = 'bench/rmx3pzhsozv/devices-q0-o0-t100000/con';
const FILTER = `${PREFIX}/+/data`;
let count = 0;
let bad = 0;
let fed: () => void = () => undefined;
/** Counts each feed and checks what the handlers pass, as the receivers' DrainCounter does. */
const sink: MessageSink = {
  hit: () => {
    if (++count === perFeed) fed();
  },
  device: (id) => {
    if (id.length < 4 || id.charCodeAt(0) !== 100 /* d */) bad++;
    sink.hit();
  },
  reading: (dto) => {
    if (dto === undefined || dto.seq !== 1) bad++;
    sink.hit();
  },
};

/** The PUBLISH packets of one feed, in 64 KiB chunks: one topic per device, or one topic. */
function feedChunks(): Buffer[] {
  const chunks: Buffer[] = [];
  let current: Buffer[] = [];
  let size = 0;
  for (let i = 0; i < perFeed; i++) {
    const topic = shape === 'device' ? `${PREFIX}/dev${i}/data` : `${PREFIX}/r0/data`;
    const packet = mqttPacket.generate({
      cmd: 'publish',
      topic,
      payload: PAYLOAD,
      qos: 0,
      retain: false,
      dup: false,
    });
    current.push(packet);
    size += packet.length;
    if (size >= 65536) {
      chunks.push(Buffer.concat(current));
      current = [];
      size = 0;
    }
  }
  if (current.length > 0) chunks.push(Buffer.concat(current));
  return chunks;
}

/** A broker that acknowledges whatever the client asks, then stays silent until fed. */
function fakeBroker(onSubscribed: (socket: Socket) => void): Promise<number> {
  let subscriptions = 0;
  const server = createServer((socket) => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet: mqttPacket.Packet) => {
      if (packet.cmd === 'connect') {
        socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
      } else if (packet.cmd === 'subscribe') {
        const granted = packet.subscriptions.map(() => 0 as const);
        socket.write(mqttPacket.generate({ cmd: 'suback', messageId: packet.messageId, granted }));
        subscriptions += packet.subscriptions.length;
        if (subscriptions === others.length + 1) onSubscribed(socket);
      } else if (packet.cmd === 'pingreq') {
        socket.write(mqttPacket.generate({ cmd: 'pingresp' }));
      }
    });
    socket.on('data', (data: Buffer) => parser.parse(data));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

function callgrind(on: boolean): Promise<void> {
  return new Promise((resolve) => {
    spawn('callgrind_control', ['-i', on ? 'on' : 'off', String(process.pid)], {
      stdio: 'ignore',
    }).on('exit', () => resolve());
  });
}

async function main(): Promise<void> {
  const chunks = feedChunks();
  let socket!: Socket;
  const subscribed = new Promise<void>((resolve) => {
    void fakeBroker((s) => {
      socket = s;
      resolve();
    }).then((port) => start(`mqtt://127.0.0.1:${port}`, port));
  });
  await subscribed;
  const feed = async (): Promise<void> => {
    count = 0;
    const done = new Promise<void>((resolve) => (fed = resolve));
    for (const chunk of chunks) socket.write(chunk);
    await done;
  };
  for (let i = 0; i < WARM_FEEDS; i++) await feed();
  await callgrind(true);
  for (let i = 0; i < MEASURED_FEEDS; i++) await feed();
  await callgrind(false);
  process.stdout.write(`${JSON.stringify({ messages: perFeed * MEASURED_FEEDS, bad })}\n`);
  process.exit(0);
}

async function start(url: string, port: number): Promise<void> {
  if (kind === 'raw') {
    // As every raw contestant of the benchmark: the configuration validated at startup.
    validateRawConfig({ MQTT_BROKER_URL: url, MQTT_BROKER_PORT: String(port) });
    const client = connect(url, { reconnectPeriod: 0 });
    client.on('message', rawHandler(shape as HandlerShape, FILTER, sink));
    for (const filter of others) client.subscribe(filter);
    client.subscribe(FILTER);
    return;
  }
  const measured = { filter: FILTER, qos: 0 as const, shape: shape as HandlerShape, sink };
  await startModuleApp(moduleAppModule({ url, clientId: 'instructions', measured, others }));
}

void main();

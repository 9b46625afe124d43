/**
 * The one broker every benchmark of a run talks to. BENCH_BROKER picks it:
 * - `auto` (default): our own mosquitto when the binary is found, else the system mosquitto on
 *   127.0.0.1:1883 when something listens there, else aedes in a child process;
 * - `own`, `system`, `aedes`, or an `mqtt://host:port` URL.
 * Our own mosquitto runs on a free port with queues big enough that it never drops a message of
 * a benchmark (the default max_queued_messages of 1000 drops QoS 0 messages of a slow receiver).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { WorkerProcess, trackChild } from './worker-process';

/** The broker of a run. */
export interface BenchBroker {
  readonly url: string;
  /** What it is, for the report. */
  readonly description: string;
  readonly kind: 'mosquitto-own' | 'mosquitto-system' | 'aedes' | 'external';
  /** Stops it when we started it. */
  stop(): Promise<void>;
}

/** The mosquitto.conf lines of our own broker (the port line comes first). */
export const OWN_MOSQUITTO_CONFIG = [
  'allow_anonymous true',
  'persistence false',
  // Queue (practically) without limit, so a slow receiver gets every message.
  'max_queued_messages 10000000',
  'max_queued_bytes 0',
  // QoS 1/2 messages in flight per client (mosquitto's default is 20).
  'max_inflight_messages 1000',
  'log_dest stderr',
  'log_type error',
  'log_type warning',
];

function findMosquitto(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'mosquitto'), constants.X_OK);
      return join(dir, 'mosquitto');
    } catch {
      // Not there.
    }
  }
  return undefined;
}

function reachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startOwnMosquitto(
  binary: string,
  extra: readonly string[] = [],
): Promise<BenchBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-mqtt-bench-'));
  const configFile = join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`, ...OWN_MOSQUITTO_CONFIG, ...extra];
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(configFile, `${lines.join('\n')}\n`);
  const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  trackChild(child);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8192);
  });
  const deadline = Date.now() + 5000;
  while (!(await reachable('127.0.0.1', port, 200))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto did not start on port ${port}: ${output.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: 'mosquitto-own',
    description:
      `own mosquitto (${binary}, pid ${child.pid}) on 127.0.0.1:${port}: max_queued_messages 10000000, max_inflight_messages 1000` +
      extra.map((line) => `, ${line}`).join(''),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startAedes(): Promise<BenchBroker> {
  const worker = await WorkerProcess.start('aedes', 'aedes-broker.ts');
  const port = Number(worker.info.port);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    kind: 'aedes',
    description: `aedes in a child process (pid ${worker.pid}) on 127.0.0.1:${port}`,
    stop: () => worker.stop(),
  };
}

function systemBroker(): BenchBroker {
  return {
    url: 'mqtt://127.0.0.1:1883',
    kind: 'mosquitto-system',
    description:
      'system mosquitto on 127.0.0.1:1883 (its own limits apply: QoS 0 drops are reported)',
    stop: () => Promise.resolve(),
  };
}

/**
 * Starts one more mosquitto of our own (the request/reply latency scenario runs on one with
 * `set_tcp_nodelay true` and one with it off), or resolves `undefined` when there is no binary.
 */
export async function startExtraMosquitto(
  extra: readonly string[],
): Promise<BenchBroker | undefined> {
  const binary = findMosquitto();
  return binary ? startOwnMosquitto(binary, extra) : undefined;
}

/** Starts (or finds) the broker chosen by `choice` (BENCH_BROKER). */
export async function startBroker(choice: string): Promise<BenchBroker> {
  if (/^mqtts?:\/\//.test(choice)) {
    return {
      url: choice,
      kind: 'external',
      description: `external broker ${choice}`,
      stop: () => Promise.resolve(),
    };
  }
  const binary = findMosquitto();
  switch (choice) {
    case 'own':
      if (!binary) throw new Error('BENCH_BROKER=own: no mosquitto binary found');
      return startOwnMosquitto(binary);
    case 'system':
      if (!(await reachable('127.0.0.1', 1883)))
        throw new Error('BENCH_BROKER=system: nothing listens on 127.0.0.1:1883');
      return systemBroker();
    case 'aedes':
      return startAedes();
    case 'auto':
      if (binary) return startOwnMosquitto(binary);
      if (await reachable('127.0.0.1', 1883)) return systemBroker();
      return startAedes();
    default:
      throw new Error(`BENCH_BROKER=${choice}: use auto, own, system, aedes or an mqtt:// URL`);
  }
}

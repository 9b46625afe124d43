/**
 * Two or three aedes nodes sharing the machine's Redis (127.0.0.1:6379; a private redis-server on
 * a free port when none answers there, as on a fresh CI machine), each a child process
 * running aedes-node.ts, with a key prefix unique to the run (never flushed: this run's keys
 * are deleted by prefix when it stops).
 */
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';

import { findExecutable } from '../../support/mosquitto';
import { freePort } from '../../support/ports';
import { isRunning, spawnTypeScript, terminate, trackChild } from '../../support/processes';
import { delay } from '../../support/wait';
import { uid } from '../../support/ids';
import { brokerNode, waitForMqtt, type BrokerNode } from './broker-node';

/** A running aedes cluster. */
export interface AedesCluster {
  readonly nodes: readonly BrokerNode[];
  /** The Redis key prefix of this run. */
  readonly prefix: string;
  stop(): Promise<void>;
}

/** True when Redis answers on 127.0.0.1:`port`. */
export function redisAvailable(port = 6379): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.end('PING\r\n');
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Deletes this run's keys (`prefix*`) from the shared Redis; never anything else. */
export function deleteRedisKeys(prefix: string, port = 6379): Promise<void> {
  const script =
    "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do redis.call('DEL', k) n = n + 1 end return n";
  const args = ['EVAL', script, '0', prefix];
  const command = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(command));
    socket.setTimeout(2000);
    socket.once('data', () => socket.end());
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
    socket.once('timeout', () => socket.destroy());
  });
}

/** A Redis to share: the machine's on 6379 when it answers, else a private `redis-server`. */
export async function shareRedis(): Promise<{ port: number; stop(): Promise<void> }> {
  if (await redisAvailable(6379)) return { port: 6379, stop: () => Promise.resolve() };
  const binary = findExecutable('redis-server');
  if (!binary) throw new Error('No Redis on 127.0.0.1:6379 and no redis-server binary');
  const port = await freePort();
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  trackChild(child);
  const deadline = Date.now() + 10_000;
  while (!(await redisAvailable(port))) {
    if (Date.now() > deadline || !isRunning(child)) {
      await terminate(child);
      throw new Error(`redis-server did not answer on ${port} within 10 s`);
    }
    await delay(100);
  }
  return { port, stop: () => terminate(child) };
}

/**
 * Starts `count` (default 2) aedes nodes (`env` added to theirs, e.g. AEDES_MAX_SESSION_DELIVERY)
 * and resolves once each answers MQTT CONNECTs.
 */
export async function startAedesCluster(
  count = 2,
  env: Record<string, string> = {},
): Promise<AedesCluster> {
  const prefix = `${uid('nestjs-mqtt-interop')}:`;
  const redis = await shareRedis();
  const nodes: BrokerNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await deleteRedisKeys(prefix, redis.port);
    await redis.stop();
  };
  try {
    for (let i = 0; i < count; i++) {
      const name = `aedes-${i + 1}`;
      const child = spawnTypeScript('test/interop/support/aedes-node.ts', {
        env: {
          ...process.env,
          ...env,
          AEDES_NODE_ID: name,
          AEDES_REDIS_PREFIX: prefix,
          AEDES_REDIS_PORT: String(redis.port),
        },
      });
      const port = await new Promise<number>((resolve, reject) => {
        let buffer = '';
        const onData = (chunk: Buffer) => {
          buffer += chunk.toString();
          const match = /"event":"ready".*"port":(\d+)/.exec(buffer);
          if (match) {
            child.stdout?.off('data', onData);
            resolve(Number(match[1]));
          }
        };
        child.stdout?.on('data', onData);
        child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before ready`)));
      });
      nodes.push(brokerNode(name, port, child));
    }
    await Promise.all(nodes.map((n) => waitForMqtt(n, 10_000)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, prefix, stop };
}

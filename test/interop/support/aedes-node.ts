/**
 * One aedes node of a cluster, run as its own process (so a test can SIGKILL it): messages go
 * between nodes through Redis pub/sub (`mqemitter-redis`), sessions, subscriptions, retained and
 * queued messages live in Redis (`aedes-persistence-redis`) under a per-run key prefix.
 * Environment: AEDES_NODE_ID, AEDES_REDIS_PREFIX, AEDES_REDIS_PORT (default 6379),
 * AEDES_MAX_SESSION_DELIVERY (queued messages sent on a CONNECT; aedes-persistence-redis: 1000).
 * Prints `{"event":"ready","port":N}` on stdout once it listens on a free 127.0.0.1 port.
 */
import { createServer, type AddressInfo } from 'node:net';

import Aedes from 'aedes';
import redisPersistence from 'aedes-persistence-redis';
import mqemitterRedis from 'mqemitter-redis';

const id = process.env.AEDES_NODE_ID ?? `aedes-${process.pid}`;
const redis = {
  host: '127.0.0.1',
  port: Number(process.env.AEDES_REDIS_PORT ?? 6379),
};
const prefix = process.env.AEDES_REDIS_PREFIX ?? `aedes-${process.pid}:`;

const broker = new Aedes({
  id,
  mq: mqemitterRedis({ ...redis }),
  persistence: redisPersistence({
    ...redis,
    keyPrefix: prefix,
    maxSessionDelivery: Number(process.env.AEDES_MAX_SESSION_DELIVERY ?? 1000),
  }),
});
broker.on('clientError', () => undefined);
broker.on('connectionError', () => undefined);

const server = createServer((socket) => broker.handle(socket));
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ event: 'ready', id, port })}\n`);
});
process.on('SIGTERM', () => {
  broker.close(() => server.close(() => process.exit(0)));
});

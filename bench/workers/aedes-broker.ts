/**
 * The fallback broker: aedes in its own process (so it does not share the measured process's
 * CPU), on a free 127.0.0.1 port reported in the ready message. Used only when no mosquitto
 * binary is found and nothing listens on 127.0.0.1:1883 (or with BENCH_BROKER=aedes).
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import Aedes from 'aedes';
import { ready, run, serve } from './ipc';

run(async () => {
  const broker = new Aedes();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  serve({}, async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  ready({ port });
});

/**
 * The TCP proxy of the fault suite, proven on plain sockets: it forwards both ways; a black hole
 * delivers nothing and no FIN either way until restored (then the held bytes and the FIN
 * arrive); a connection made during a black hole is accepted but goes nowhere until restored;
 * a cut closes both ends.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

import { delay, until } from './wait';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

/** A server that records what each connection sent and whether it ended. */
interface Recorder {
  readonly server: Server;
  readonly port: number;
  readonly conns: Array<{ socket: Socket; data: string; ended: boolean; closed: boolean }>;
}

async function startRecorder(): Promise<Recorder> {
  const conns: Recorder['conns'] = [];
  const server = createServer((socket) => {
    const conn = { socket, data: '', ended: false, closed: false };
    conns.push(conn);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (conn.data += chunk));
    socket.on('end', () => (conn.ended = true));
    socket.on('close', () => (conn.closed = true));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no server address');
  return { server, port: address.port, conns };
}

async function dial(
  port: number,
): Promise<{ socket: Socket; data: () => string; closed: () => boolean }> {
  const socket = connect({ host: '127.0.0.1', port });
  let data = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (data += chunk));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, data: () => data, closed: () => closed };
}

describe('TcpProxy (test support)', () => {
  let recorder: Recorder;
  let proxy: TcpProxy;

  beforeEach(async () => {
    recorder = await startRecorder();
    proxy = await startTcpProxy(recorder.port);
  });
  afterEach(async () => {
    await proxy.close();
    for (const conn of recorder.conns) conn.socket.destroy();
    await new Promise<void>((resolve) => recorder.server.close(() => resolve()));
  });

  it('forwards both ways', async () => {
    const client = await dial(proxy.port);
    client.socket.write('ping');
    await until('the server to get "ping"', () => recorder.conns[0]?.data === 'ping');
    recorder.conns[0].socket.write('pong');
    await until('the client to get "pong"', () => client.data() === 'pong');
    expect(proxy.accepted).toHaveLength(1);
    client.socket.destroy();
  });

  it('a black hole delivers no byte and no FIN either way until restored', async () => {
    const client = await dial(proxy.port);
    await until('the upstream connection', () => recorder.conns.length === 1);
    const upstream = recorder.conns[0];
    proxy.blackhole();
    client.socket.write('held');
    client.socket.end();
    upstream.socket.write('held too');
    await delay(300); // a window in which nothing may arrive
    expect({ data: upstream.data, ended: upstream.ended }).toEqual({ data: '', ended: false });
    expect({ data: client.data(), closed: client.closed() }).toEqual({ data: '', closed: false });

    proxy.restore();
    await until(
      'the held bytes and the FIN upstream',
      () => upstream.data === 'held' && upstream.ended,
    );
    await until('the held bytes downstream', () => client.data() === 'held too');
  });

  it('a connection made during a black hole is accepted but goes nowhere until restored', async () => {
    proxy.blackhole();
    const client = await dial(proxy.port);
    client.socket.write('early');
    await delay(300); // a window in which nothing may arrive
    expect(proxy.accepted).toHaveLength(1);
    expect(recorder.conns).toHaveLength(0);
    proxy.restore();
    await until('the held connection to arrive', () => recorder.conns[0]?.data === 'early');
    client.socket.destroy();
  });

  it('a cut closes both ends', async () => {
    const client = await dial(proxy.port);
    await until('the upstream connection', () => recorder.conns.length === 1);
    proxy.cut();
    await until('both ends closed', () => client.closed() && recorder.conns[0].closed);
    expect(proxy.open).toBe(0);
  });
});

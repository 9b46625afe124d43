import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 between a client and a broker, for injecting link faults for real:
 * - `blackhole()`: nothing is forwarded either way and nothing is closed, like a cable pulled
 *   between two routers (no FIN, no RST): both ends only find out through their own timeouts.
 *   Bytes sent meanwhile wait in the proxy's socket buffers; new connections are accepted but
 *   not connected onwards.
 * - `restore()`: forwarding resumes; a pair whose other end closed meanwhile is closed now.
 * - `cut()`: every open connection is destroyed at once (the client sees the socket close).
 */
export interface TcpProxy {
  /** The port clients connect to. */
  readonly port: number;
  /** When each client connection was accepted (ms since the epoch), in order. */
  readonly accepted: readonly number[];
  /** Connections open now. */
  readonly open: number;
  /** True while black-holed. */
  readonly blackholed: boolean;
  blackhole(): void;
  restore(): void;
  cut(): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  upstream?: Socket;
  closed: boolean;
}

/** Starts a proxy on a free loopback port forwarding to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  const accepted: number[] = [];
  let holding = false;

  const closePair = (pair: Pair): void => {
    pair.closed = true;
    pair.client.destroy();
    pair.upstream?.destroy();
    pairs.delete(pair);
  };

  /** Forwards `from` to `to`, with back-pressure, unless black-holed. */
  const forward = (pair: Pair, from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!holding) from.resume();
        });
      }
    });
    from.on('end', () => {
      if (!holding) to.end();
    });
    from.on('close', () => {
      if (holding) pair.closed = true;
      else closePair(pair);
    });
  };

  const connectUpstream = (pair: Pair): void => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    pair.upstream = upstream;
    upstream.on('error', () => undefined);
    forward(pair, pair.client, upstream);
    forward(pair, upstream, pair.client);
  };

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    accepted.push(Date.now());
    client.on('error', () => undefined);
    const pair: Pair = { client, closed: false };
    pairs.add(pair);
    if (holding) return; // accepted, paused, not connected onwards until restore()
    connectUpstream(pair);
    client.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    port,
    accepted,
    get open() {
      return pairs.size;
    },
    get blackholed() {
      return holding;
    },
    blackhole() {
      holding = true;
      for (const pair of pairs) {
        pair.client.pause();
        pair.upstream?.pause();
      }
    },
    restore() {
      holding = false;
      for (const pair of [...pairs]) {
        if (pair.closed || pair.client.destroyed || pair.upstream?.destroyed) {
          closePair(pair);
        } else if (!pair.upstream) {
          connectUpstream(pair);
          pair.client.resume();
        } else {
          pair.client.resume();
          pair.upstream.resume();
        }
      }
    },
    cut() {
      for (const pair of [...pairs]) closePair(pair);
    },
    async close() {
      for (const pair of [...pairs]) closePair(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

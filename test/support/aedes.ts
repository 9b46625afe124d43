import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';

import Aedes, { type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';

/**
 * Decides whether a CONNECT is accepted: return (or resolve) true to accept, false to refuse
 * with CONNACK return code 5 (MQTT.js: `Connection refused: Not authorized`).
 */
export type AedesAuthenticate = (
  client: Client,
  username: string | undefined,
  password: Buffer | undefined,
) => boolean | Promise<boolean>;

/** Options of {@link startAedes}. */
export interface AedesBrokerOptions {
  /** Also serve MQTT over WebSocket on a second port (`wsPort` / `wsUrl`). */
  readonly websocket?: boolean;
  /** HTTP path of the WebSocket endpoint; default `/mqtt`. */
  readonly wsPath?: string;
  /** Credential check; by default every client is accepted. */
  readonly authenticate?: AedesAuthenticate;
  /** Any other aedes constructor options (authorizePublish, preConnect, ...). */
  readonly aedes?: Omit<AedesOptions, 'authenticate'>;
}

/** An in-process aedes broker started by {@link startAedes}. */
export interface AedesBroker {
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  /** `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
  /** WebSocket port, when `websocket` was set. */
  readonly wsPort?: number;
  /** `ws://127.0.0.1:WSPORT/mqtt` (or the configured path), when `websocket` was set. */
  readonly wsUrl?: string;
  /** The aedes instance, for events (`publish`, `client`, ...) and server-side publishes. */
  readonly broker: Aedes;
  /** Closes the broker and its servers, destroying any open connection; awaited. */
  stop(): Promise<void>;
}

function listen(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

function trackSockets(server: Server | HttpServer, sockets: Set<Socket>): void {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}

/**
 * Starts an aedes broker inside the test process on a free 127.0.0.1 port (TCP via
 * `net.createServer(broker.handle)`), and optionally over WebSocket via `ws`'s
 * `WebSocketServer` on its own HTTP server. Call `stop()` in afterAll.
 */
export async function startAedes(options: AedesBrokerOptions = {}): Promise<AedesBroker> {
  const { authenticate } = options;
  const broker = new Aedes({
    ...options.aedes,
    ...(authenticate && {
      authenticate: (client, username, password, done) => {
        Promise.resolve()
          .then(() => authenticate(client, username, password))
          .then(
            (ok) => done(null, ok),
            (err: unknown) => {
              const error = (
                err instanceof Error ? err : new Error(String(err))
              ) as AuthenticateError;
              error.returnCode ??= 5; // NOT_AUTHORIZED
              done(error, null);
            },
          );
      },
    }),
  });

  const sockets = new Set<Socket>();
  const tcpServer = createNetServer((socket) => broker.handle(socket));
  trackSockets(tcpServer, sockets);
  const port = await listen(tcpServer);

  let httpServer: HttpServer | undefined;
  let wss: WebSocketServer | undefined;
  let wsPort: number | undefined;
  const wsPath = options.wsPath ?? '/mqtt';
  if (options.websocket) {
    httpServer = createHttpServer((_req, res) => {
      res.writeHead(404).end();
    });
    trackSockets(httpServer, sockets);
    wss = new WebSocketServer({ server: httpServer, path: wsPath });
    wss.on('connection', (ws, req) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => ws.terminate());
      broker.handle(stream, req);
    });
    wsPort = await listen(httpServer);
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      for (const client of wss?.clients ?? []) client.terminate();
      for (const socket of sockets) socket.destroy();
      const closing: Promise<void>[] = [closeServer(tcpServer)];
      if (wss) closing.push(new Promise<void>((resolve) => wss.close(() => resolve())));
      if (httpServer) closing.push(closeServer(httpServer));
      await Promise.all(closing);
    })();
    return stopping;
  };

  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    wsPort,
    wsUrl: wsPort === undefined ? undefined : `ws://127.0.0.1:${wsPort}${wsPath}`,
    broker,
    stop,
  };
}

/** What {@link aedesClient} gives: a connected client as aedes holds it. */
export interface AedesClientState {
  /** The filters the client is subscribed to (the keys), as aedes holds them. */
  readonly subscriptions: Record<string, unknown>;
}

/**
 * The client aedes holds under `id` (from its `clients` map, a public field its typings leave
 * out), with its subscriptions; `undefined` while no client with that id is connected.
 */
export function aedesClient(broker: AedesBroker, id: string): AedesClientState | undefined {
  const { clients } = broker.broker as unknown as {
    clients: Record<string, AedesClientState | undefined>;
  };
  return clients[id];
}

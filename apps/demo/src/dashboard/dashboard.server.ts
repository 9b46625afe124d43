import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asyncApiHandler } from 'nestjs-mqtt';
import { DashboardFeed } from './dashboard.feed';
import { DASHBOARD_HTML, DASHBOARD_SCRIPT } from './dashboard.page';

/** The port the dashboard asks for when DEMO_DASHBOARD_PORT is not set. */
export const DEFAULT_DASHBOARD_PORT = 8080;
/** Host the dashboard listens on: loopback only. */
const HOST = '127.0.0.1';
/** Seconds between two keep-alive comments on an idle event stream. */
const HEARTBEAT_S = 15;

/**
 * Serves the dashboard on http://127.0.0.1:DEMO_DASHBOARD_PORT/ with node:http: the page, its
 * script, `/api/snapshot` (the data as JSON), `/events` (the same, pushed as server-sent events
 * each time it changes) and `/asyncapi.json` (the app's AsyncAPI document). It starts before the
 * MQTT connection, so the page shows the connecting state too. DEMO_DASHBOARD_PORT=0 takes a free
 * port, `off` disables the dashboard; a taken port falls back to a free one, said in the log.
 */
@Injectable()
export class DashboardServer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Dashboard');
  private readonly streams = new Set<ServerResponse>();
  private readonly asyncApi = asyncApiHandler(() => this.feed.asyncApi());
  private server?: Server;

  constructor(
    private readonly feed: DashboardFeed,
    private readonly config: ConfigService,
  ) {}

  /** @internal Starts listening. */
  async onModuleInit(): Promise<void> {
    const raw = this.config.get<string>('DEMO_DASHBOARD_PORT')?.trim() || '';
    if (raw.toLowerCase() === 'off') return;
    const port = raw === '' ? DEFAULT_DASHBOARD_PORT : Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new Error(`DEMO_DASHBOARD_PORT must be a port from 0 to 65535 or "off", got "${raw}"`);
    }
    const server = createServer((req, res) => this.route(req, res));
    let bound: number;
    try {
      bound = await listen(server, port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      bound = await listen(server, 0);
      this.logger.warn(`Port ${port} on ${HOST} is already in use, so the dashboard uses ${bound}`);
    }
    this.server = server;
    this.logger.log(`Dashboard: http://${HOST}:${bound}/`);
  }

  /** @internal Ends the event streams and stops listening. */
  async onApplicationShutdown(): Promise<void> {
    for (const res of this.streams) res.end();
    this.streams.clear();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/asyncapi.json') {
      this.asyncApi(req, res);
      return;
    }
    if (req.method !== 'GET') {
      send(res, 405, 'text/plain', 'Only GET is served here');
      return;
    }
    switch (path) {
      case '/':
        send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML);
        return;
      case '/app.js':
        send(res, 200, 'text/javascript; charset=utf-8', DASHBOARD_SCRIPT);
        return;
      case '/api/snapshot':
        send(res, 200, 'application/json', JSON.stringify(this.feed.snapshot()));
        return;
      case '/events':
        this.stream(req, res);
        return;
      default:
        send(res, 404, 'text/plain', `Nothing at ${path}: the dashboard is at /`);
    }
  }

  /** Server-sent events: a snapshot now, then one each time the data changes. */
  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    const push = (): void => {
      res.write(`event: snapshot\ndata: ${JSON.stringify(this.feed.snapshot())}\n\n`);
    };
    push();
    const changes = this.feed.changes$().subscribe(push);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_S * 1000);
    this.streams.add(res);
    req.on('close', () => {
      changes.unsubscribe();
      clearInterval(heartbeat);
      this.streams.delete(res);
    });
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, HOST, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

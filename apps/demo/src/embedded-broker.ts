import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import Aedes from 'aedes';

/** The port the embedded broker asks for when DEMO_BROKER_PORT is not set. */
export const DEFAULT_BROKER_PORT = 1883;

/**
 * An in-process MQTT 3.1.1 broker (aedes) on 127.0.0.1, so the demo runs on a machine with no
 * broker installed. Registered as a provider of the app, it closes in `onApplicationShutdown`,
 * i.e. after the MQTT client has disconnected in `beforeApplicationShutdown`.
 */
export class EmbeddedBroker implements OnApplicationShutdown {
  private readonly logger = new Logger(EmbeddedBroker.name);
  private readonly sockets = new Set<Socket>();
  private closing?: Promise<void>;

  private constructor(
    private readonly broker: Aedes,
    private readonly server: Server,
    /** Host the broker listens on (always 127.0.0.1). */
    readonly host: string,
    /** Port the broker listens on. */
    readonly port: number,
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    broker.on('client', (client) => this.logger.log(`Client "${client.id}" connected`));
    broker.on('clientDisconnect', (client) =>
      this.logger.log(`Client "${client.id}" disconnected`),
    );
  }

  /**
   * Starts the broker on 127.0.0.1:`port`. When that port is taken (typically 1883 by a local
   * Mosquitto), it listens on a free port instead and says so in the log.
   */
  static async start(port: number): Promise<EmbeddedBroker> {
    const logger = new Logger(EmbeddedBroker.name);
    const host = '127.0.0.1';
    const broker = new Aedes();
    const server = createServer((socket) => broker.handle(socket));
    let bound: number;
    try {
      bound = await listen(server, host, port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
        broker.close();
        throw error;
      }
      bound = await listen(server, host, 0);
      logger.warn(
        `Port ${port} on ${host} is already in use (a local Mosquitto?), so the embedded broker ` +
          `listens on the free port ${bound} instead`,
      );
    }
    logger.log(`Embedded aedes broker (MQTT 3.1.1) listening on mqtt://${host}:${bound}`);
    return new EmbeddedBroker(broker, server, host, bound);
  }

  /** @internal Closes the broker once the app has shut down. */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Disconnects every client and stops listening. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await new Promise<void>((resolve) => this.broker.close(() => resolve()));
      for (const socket of this.sockets) socket.destroy();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.logger.log('Embedded broker closed');
    })();
    return this.closing;
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

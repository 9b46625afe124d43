import { createServer, type AddressInfo } from 'node:net';

/**
 * Asks the kernel for a free TCP port on 127.0.0.1 (listens on port 0, reads the port, closes).
 * The port is only likely, not guaranteed, to stay free until the caller binds it.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

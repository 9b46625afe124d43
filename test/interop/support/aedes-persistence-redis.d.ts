/** aedes-persistence-redis 10 ships no types: what aedes-node.ts uses of it. */
declare module 'aedes-persistence-redis' {
  import type { AedesOptions } from 'aedes';

  /** ioredis connection options (host, port, keyPrefix, ...) and `maxSessionDelivery`. */
  interface RedisPersistenceOptions {
    host?: string;
    port?: number;
    keyPrefix?: string;
    /** Queued messages delivered at most on a CONNECT. @default 1000 */
    maxSessionDelivery?: number;
  }
  function redisPersistence(
    options?: RedisPersistenceOptions,
  ): NonNullable<AedesOptions['persistence']>;
  export = redisPersistence;
}

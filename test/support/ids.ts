import { randomBytes } from 'node:crypto';

/**
 * A short random id (8 hex digits) for topics, client ids and file names, so that tests sharing
 * a broker or a directory do not see each other: `uid()` gives e.g. `3f9a0c1b`, `uid('svc')`
 * gives `svc-3f9a0c1b`.
 */
export function uid(prefix?: string): string {
  const id = randomBytes(4).toString('hex');
  return prefix === undefined ? id : `${prefix}-${id}`;
}

/** A random client id (`test-` + 12 hex digits), short enough for every broker's limit. */
export function randomClientId(prefix = 'test'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

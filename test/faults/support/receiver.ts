/**
 * The test's side of the receiver app (receiver-app.ts in a child process): starts it with
 * MQTT_* keys, and keeps a {@link Tally} of the sequence numbers it handled to the end, across
 * instances when given one.
 */
import { join } from 'node:path';

import { startChildApp, type ChildApp } from '../../fixtures/reliability-helpers';
import { Tally } from './tally';

/** A running receiver app and what it handled. */
export interface Receiver {
  readonly app: ChildApp;
  /** Numbers whose handler call finished ({"event":"done"}). */
  readonly done: Tally;
  /** Numbers whose handler call started. */
  readonly started: Tally;
  /** Resolves once the app bootstrapped (connected and subscribed); rejects on exit or timeout. */
  ready(timeoutMs?: number): Promise<void>;
}

/**
 * Starts test/faults/support/receiver-app.ts with `env` over this process's environment. Pass
 * the `done` tally of an earlier instance to count both instances together.
 */
export function startReceiver(env: Record<string, string>, done = new Tally()): Receiver {
  const app = startChildApp(join('..', 'faults', 'support', 'receiver-app.ts'), env);
  const started = new Tally();
  let counted = 0;
  // The child's stdout listener fills app.events; fold the new ones into the tallies as they come.
  app.child.stdout?.on('data', () => {
    for (; counted < app.events.length; counted++) {
      const event = app.events[counted];
      if (event.event === 'done') done.record(event.n as number);
      else if (event.event === 'start') started.record(event.n as number);
    }
  });
  return {
    app,
    done,
    started,
    ready: async (timeoutMs = 15_000) => {
      await app.waitFor((e) => e.event === 'ready', 'the app to bootstrap', timeoutMs);
    },
  };
}

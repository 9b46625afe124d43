/**
 * Waiting in tests: bounded polling for a condition, deliberate pauses, and the error of a
 * promise that must reject.
 */

/** How often {@link until} looks again, in milliseconds. */
const POLL_INTERVAL_MS = 10;

/**
 * Resolves after `ms` milliseconds. Only for deliberate pauses: a handler's simulated work, or a
 * window in which something must NOT happen. To wait for something to happen, use {@link until}.
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` (at once, then every 10 ms) until it returns something other than `undefined`
 * or `false`, and resolves with that value: a boolean check resolves with `true`, a lookup with
 * what it found. Rejects with "Timed out after <timeout> ms waiting for <what>" once `timeout`
 * ms have passed (followed by `; seen: <JSON of seen()>` when `seen` is given, for diagnosis),
 * or with whatever `probe` throws.
 *
 * @example await until('the first message', () => inbox.length > 0);
 * @example const letter = await until('a dead letter', () => letters.find(isMine), 10_000);
 */
export function until<T>(
  what: string,
  probe: () => T | undefined | false,
  timeout = 5000,
  seen?: () => unknown,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeout;
    const tick = (): void => {
      let value: T | undefined | false;
      try {
        value = probe();
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (value !== undefined && value !== false) {
        resolve(value);
        return;
      }
      if (Date.now() > deadline) {
        const extra = seen ? `; seen: ${JSON.stringify(seen())}` : '';
        reject(new Error(`Timed out after ${timeout} ms waiting for ${what}${extra}`));
        return;
      }
      setTimeout(tick, POLL_INTERVAL_MS);
    };
    tick();
  });
}

/**
 * The error `promise` rejects with, to assert on its class, code and message; throws "expected
 * a rejection, but the promise resolved" when it resolves instead. `E` only narrows the type
 * (nothing is checked at run time): assert the class with `toBeInstanceOf`.
 *
 * @example const error = await rejectionOf(app.init());
 */
export async function rejectionOf<E extends Error = Error>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** Helpers shared by the dispatch specs (not part of the package: excluded from its build). */

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** A promise settled from the outside, so asynchronous handlers finish exactly when told. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending microtask (and the promise chains they start) run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The worker side of the IPC protocol: answer the orchestrator's requests, report readiness,
 * and exit when the orchestrator goes away (so no worker outlives an interrupted run).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import type { MemorySample, WorkerReady, WorkerReply, WorkerRequest } from '../src/shared';

export type RequestHandler = (request: WorkerRequest) => unknown;

function send(message: WorkerReply | WorkerReady): void {
  if (process.send && process.connected) process.send(message);
}

/**
 * A CPU profile of the measured part of a worker's life: started by `start()` (at the first
 * measured request), written to BENCH_PROFILE_FILE when the worker exits. Does nothing when
 * BENCH_PROFILE_FILE is not set.
 */
export const profiler = {
  session: undefined as Session | undefined,
  start(): void {
    const file = process.env.BENCH_PROFILE_FILE;
    if (!file || this.session) return;
    const session = new Session();
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 200 });
    session.post('Profiler.start');
    this.session = session;
  },
  stop(): Promise<void> {
    const session = this.session;
    const file = process.env.BENCH_PROFILE_FILE;
    if (!session || !file) return Promise.resolve();
    this.session = undefined;
    return new Promise((resolve) => {
      session.post('Profiler.stop', (error, result) => {
        if (!error) writeFileSync(file, JSON.stringify(result.profile));
        session.disconnect();
        resolve();
      });
    });
  },
};

/** Serves requests by their `cmd`; `exit` is built in (runs `onExit` first, then exits). */
export function serve(
  handlers: Record<string, RequestHandler>,
  onExit?: () => Promise<void> | void,
): void {
  let exiting = false;
  const exit = async (code: number): Promise<void> => {
    if (exiting) return;
    exiting = true;
    try {
      await profiler.stop();
      await onExit?.();
    } finally {
      process.exit(code);
    }
  };
  process.on('disconnect', () => void exit(0));
  process.on('message', (raw: unknown) => {
    const request = raw as WorkerRequest;
    if (request.cmd === 'exit') {
      send({ id: request.id, ok: true });
      void exit(0);
      return;
    }
    const handler = handlers[request.cmd];
    if (!handler) {
      send({ id: request.id, ok: false, error: `unknown command ${request.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(request))
      .then(
        (result) => send({ id: request.id, ok: true, result }),
        (error: unknown) =>
          send({
            id: request.id,
            ok: false,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          }),
      );
  });
}

/** Tells the orchestrator the worker is ready. */
export function ready(info?: Record<string, unknown>): void {
  send({ ready: true, info });
}

/** Reads a required environment variable. */
export function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`bench worker: ${name} is not set`);
  return value;
}

/** Memory now, after two full collections when the process runs with --expose-gc. */
export function memorySample(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    gc: gc !== undefined,
  };
}

/** Runs `main`, reporting a startup failure on stderr with a non-zero exit code. */
export function run(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  });
}

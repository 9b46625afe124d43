/**
 * The worker side of the IPC protocol: answer the orchestrator's requests, report readiness,
 * and exit when the orchestrator goes away (so no worker outlives an interrupted run).
 */
import type { WorkerReady, WorkerReply, WorkerRequest } from '../src/shared';

export type RequestHandler = (request: WorkerRequest) => unknown;

function send(message: WorkerReply | WorkerReady): void {
  if (process.send && process.connected) process.send(message);
}

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
export function memorySample(): {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  gc: boolean;
} {
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

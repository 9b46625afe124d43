/**
 * The orchestrator side of a worker: a child Node process running a TypeScript file of
 * bench/workers/ through test/support/register-ts.js, spoken to over IPC. Every child is tracked
 * so an interrupted run leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { WorkerReady, WorkerReply } from './shared';

const REGISTER_TS = resolve(__dirname, '../../test/support/register-ts.js');
const WORKERS_DIR = resolve(__dirname, '../workers');
const OUTPUT_TAIL = 16 * 1024;

/** Every child process started by the benchmark, for cleanup. */
const children = new Set<ChildProcess>();

/** Kills every child still running (resuming stopped ones first). Synchronous, for exit paths. */
export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
    try {
      process.kill(child.pid, 'SIGCONT');
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  children.clear();
}

/** Tracks a child process started elsewhere (the broker), for {@link killAllChildren}. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Options of {@link WorkerProcess.start}. */
export interface WorkerStartOptions {
  /** Extra environment variables (added to the orchestrator's). */
  readonly env?: Record<string, string | number>;
  /** Extra node flags (`--expose-gc`, `--cpu-prof`, ...). */
  readonly execArgv?: readonly string[];
  /** How long to wait for the ready message. @default 120000 */
  readonly readyTimeoutMs?: number;
}

/** A worker process of bench/workers/. */
export class WorkerProcess {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private output = '';
  private exited = false;
  private paused = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly info: Record<string, unknown>,
  ) {}

  /** The child's pid. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Starts `bench/workers/<script>` and resolves with it once it reported ready. */
  static start(
    name: string,
    script: string,
    options: WorkerStartOptions = {},
  ): Promise<WorkerProcess> {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [key, value] of Object.entries(options.env ?? {})) env[key] = String(value);
    const child = spawn(
      process.execPath,
      [
        // BENCH_NODE_FLAGS: for looking into a run (--trace-gc, --perf-basic-prof, ...).
        ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
        ...(options.execArgv ?? []),
        '-r',
        REGISTER_TS,
        resolve(WORKERS_DIR, script),
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    trackChild(child);
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
      if (process.env.BENCH_VERBOSE === '1') process.stderr.write(`[${name}] ${chunk.toString()}`);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    return new Promise((resolveStart, rejectStart) => {
      const timer = setTimeout(() => {
        fail(
          new Error(`${name} did not report ready within ${options.readyTimeoutMs ?? 120000} ms`),
        );
        child.kill('SIGKILL');
      }, options.readyTimeoutMs ?? 120000);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        rejectStart(new Error(`${error.message}\n--- output of ${name} ---\n${output.trim()}`));
      };
      const onExit = (code: number | null, signal: string | null): void =>
        fail(new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready`));
      const onMessage = (message: unknown): void => {
        const ready = message as WorkerReady;
        if (!ready.ready) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        const worker = new WorkerProcess(name, child, ready.info ?? {});
        worker.output = output;
        child.stdout?.off('data', collect);
        child.stderr?.off('data', collect);
        worker.listen();
        resolveStart(worker);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.once('error', (error) => fail(error));
    });
  }

  private listen(): void {
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
      if (process.env.BENCH_VERBOSE === '1')
        process.stderr.write(`[${this.name}] ${chunk.toString()}`);
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.child.on('message', (message: unknown) => {
      const reply = message as WorkerReply;
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      if (reply.ok) pending.resolve(reply.result);
      else pending.reject(new Error(`${this.name}: ${reply.error ?? 'failed'}`));
    });
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      const error = new Error(
        `${this.name} exited (code ${code}, signal ${signal})\n--- output ---\n${this.output.trim()}`,
      );
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    });
  }

  /** Sends a request and resolves with the worker's result. */
  request<T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 300_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolveRequest, rejectRequest) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        rejectRequest(new Error(`${this.name}: "${cmd}" got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolveRequest(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          rejectRequest(error);
        },
      });
      this.child.send({ id, cmd, ...args });
    });
  }

  /** Freezes the process (SIGSTOP): it reads nothing until {@link resume}. */
  pause(): void {
    if (this.exited || this.paused) return;
    process.kill(this.pid, 'SIGSTOP');
    this.paused = true;
  }

  /** Lets a paused process run again (SIGCONT). */
  resume(): void {
    if (this.exited || !this.paused) return;
    process.kill(this.pid, 'SIGCONT');
    this.paused = false;
  }

  /** Asks the worker to exit cleanly; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.exited) return;
    this.resume();
    const exited = new Promise<void>((resolveExit) => this.child.once('exit', () => resolveExit()));
    this.request('exit', {}, timeoutMs).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

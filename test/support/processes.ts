import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runInThisContext } from 'node:vm';

/**
 * Book-keeping for the child processes and temp directories the harness creates, so that nothing
 * outlives the test process even when a suite forgets (or fails) to stop what it started.
 *
 * Jest runs every test file inside a VM context whose `process` is a copy of the real one: it
 * never emits `'exit'`, so a plain `process.on('exit')` in a test helper silently does nothing.
 * The real `process` object is reached through `vm.runInThisContext`, which evaluates in Node's
 * main context. The registry lives on that real object (under a `Symbol.for` key) so that the
 * separate module registries Jest creates per test file share a single `'exit'` listener.
 */
interface Registry {
  readonly children: Set<ChildProcess>;
  readonly dirs: Set<string>;
}

const REGISTRY_KEY = Symbol.for('nestjs-mqtt.test-support.registry');

type ProcessWithRegistry = NodeJS.Process & { [REGISTRY_KEY]?: Registry };

/**
 * The real Node `process`. Jest gives each test file a copy whose `on('exit')` and
 * `on('unhandledRejection')` listeners are never called, so such listeners go on this one.
 */
export function realProcess(): NodeJS.Process {
  try {
    const real: unknown = runInThisContext('process');
    if (real && typeof (real as NodeJS.Process).on === 'function') {
      return real as NodeJS.Process;
    }
  } catch {
    // Fall through: outside an unusual sandbox the global process is the real one.
  }
  return process;
}

function registry(): Registry {
  const proc = realProcess() as ProcessWithRegistry;
  let reg = proc[REGISTRY_KEY];
  if (!reg) {
    const created: Registry = { children: new Set(), dirs: new Set() };
    proc[REGISTRY_KEY] = created;
    proc.on('exit', () => {
      for (const child of created.children) {
        if (child.exitCode === null && child.signalCode === null) {
          try {
            child.kill('SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }
      for (const dir of created.dirs) {
        try {
          rmSync(dir, { recursive: true, force: true });
        } catch {
          // Best effort only.
        }
      }
    });
    reg = created;
  }
  return reg;
}

/**
 * Registers a child process to be SIGKILLed when the (real) Node process exits, in case a suite
 * does not stop it, and unrefs it and its stdio so that it cannot keep Node from exiting. It is
 * forgotten automatically once it exits.
 */
export function trackChild(child: ChildProcess): void {
  const { children } = registry();
  children.add(child);
  child.once('exit', () => children.delete(child));
  // A forgotten child must not keep the event loop (and so Jest) alive: the exit hook kills it.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as { unref?: () => void } | null)?.unref?.();
  }
}

/** Registers a temporary directory to be removed recursively when the Node process exits. */
export function trackTempDir(dir: string): void {
  registry().dirs.add(dir);
}

/** True while the child has neither exited nor been terminated by a signal. */
export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * Resolves once the child has exited (immediately if it already has). Resolves `false` instead
 * when `timeoutMs` elapses first, `true` when it exited.
 */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!isRunning(child)) {
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Sends `signal` (SIGTERM by default) and waits for the child to exit; if it is still alive after
 * `killAfterMs` (3 s by default) it is SIGKILLed and awaited.
 */
export async function terminate(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  killAfterMs = 3000,
): Promise<void> {
  if (!isRunning(child)) {
    return;
  }
  child.kill(signal);
  if (await waitForExit(child, killAfterMs)) {
    return;
  }
  child.kill('SIGKILL');
  await waitForExit(child, killAfterMs);
}

/** The repository root. */
const ROOT = join(__dirname, '..', '..');
/** The require hook that compiles TypeScript (and maps `nestjs-mqtt`) in a child process. */
const REGISTER_TS = join(__dirname, 'register-ts.js');

/** Options of {@link spawnTypeScript}. */
export interface SpawnTypeScriptOptions {
  /** Working directory; the repository root by default. */
  readonly cwd?: string;
  /** The child's whole environment; this process's by default. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs a TypeScript file (a fixture app, the demo) in a child Node process, compiled on the fly
 * by register-ts.js the way Jest compiles the suites: `node -r register-ts.js <file>`. `file` is
 * relative to the repository root unless absolute. stdout and stderr are piped, stdin ignored;
 * the child is tracked ({@link trackChild}), so it is killed if the test process exits first.
 */
export function spawnTypeScript(file: string, options: SpawnTypeScriptOptions = {}): ChildProcess {
  const child = spawn(process.execPath, ['-r', REGISTER_TS, resolve(ROOT, file)], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  return child;
}

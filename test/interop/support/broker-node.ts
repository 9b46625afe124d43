/**
 * What the interop harnesses share: a broker process ("node") with an MQTT port on 127.0.0.1 that
 * a test can SIGKILL, a bounded wait for its MQTT listener, and `describe` that skips (outside
 * CI only) when a broker binary is missing.
 */
import type { ChildProcess } from 'node:child_process';
import { connectAsync } from 'mqtt';

import { findExecutable } from '../../support/mosquitto';
import { isRunning, terminate, waitForExit } from '../../support/processes';
import { delay } from '../../support/wait';

/** One broker process of a cluster. */
export interface BrokerNode {
  /** Node name as the broker knows it (server_name, node name, aedes id). */
  readonly name: string;
  /** MQTT port on 127.0.0.1. */
  readonly port: number;
  /** `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGKILLs the process (no goodbye to peers or clients) and waits for it to be gone. */
  kill(): Promise<void>;
  /** Stops the process gracefully (SIGTERM, SIGKILL after a few seconds). */
  stop(): Promise<void>;
  /** The last lines the process printed, for failure messages. */
  output(): string;
}

/** Builds a {@link BrokerNode} around a started child process whose output is collected. */
export function brokerNode(name: string, port: number, child: ChildProcess): BrokerNode {
  let output = '';
  const collect = (chunk: Buffer | string) => {
    output = (output + chunk.toString()).slice(-256 * 1024);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return {
    name,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    child,
    kill: async () => {
      if (!isRunning(child)) return;
      child.kill('SIGKILL');
      await waitForExit(child, 5000);
    },
    stop: () => terminate(child, 'SIGTERM', 5000),
    output: () => output,
  };
}

/**
 * Resolves once an MQTT 3.1.1 client gets a CONNACK from `node` (a cluster may listen before it
 * can serve: NATS waits for its JetStream meta leader); rejects after `timeoutMs` with the last
 * error and the node's output, or at once when the process exits.
 */
export async function waitForMqtt(node: BrokerNode, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    if (!isRunning(node.child)) {
      throw new Error(`${node.name} exited (${node.child.exitCode}): ${node.output()}`);
    }
    try {
      const client = await connectAsync(node.url, {
        reconnectPeriod: 0,
        connectTimeout: 2000,
        clientId: `probe-${process.pid}-${Date.now()}`,
      });
      await client.endAsync();
      return;
    } catch (error) {
      last = (error as Error).message;
    }
    await delay(250);
  }
  throw new Error(
    `${node.name} did not answer MQTT on ${node.port} within ${timeoutMs} ms (${last}): ${node.output()}`,
  );
}

/**
 * `describe` for a suite that needs the executables in `binaries`: when one is missing it fails
 * under CI=true (CI must not skip broker suites silently) and is skipped with a warning elsewhere.
 */
export function describeWithBinaries(
  name: string,
  binaries: readonly string[],
  install: string,
  fn: () => void,
): void {
  const missing = binaries.filter((b) => findExecutable(b) === undefined);
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const why = `${missing.join(', ')} not found on PATH or in /usr/sbin (install: ${install})`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it(`requires ${missing.join(', ')}`, () => {
        throw new Error(`${why}; required under CI=true`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": ${why}`);
  describe.skip(name, fn);
}

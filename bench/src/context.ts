/**
 * What every scenario gets: the settings, the broker, the load-generating publisher, the rows
 * measured so far, a progress log, and the two moves of every receive measurement (start a
 * receiver, drain N queued messages through it).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchBroker } from './broker';
import type { BenchConfig } from './config';
import type { Row } from './report';
import { measuredFilter, type DrainResult, type HandlerShape } from './shared';
import { WorkerProcess } from './worker-process';

/** A measured receiver kind (bench/workers/receiver.ts). */
export type ReceiverKind = 'raw' | 'module' | 'nest';

/** `items` rotated left by `by`: ABC, BCA, CAB, ... so each contestant takes each slot in turn. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Options of {@link BenchContext.startReceiver}. */
export interface ReceiverOptions {
  readonly qos: 0 | 1;
  /** Other wildcard subscriptions (shared.otherFilters). @default 0 */
  readonly others?: number;
  /** @default 'count' */
  readonly shape?: HandlerShape;
  readonly execArgv?: string[];
  /** Which of a group's fresh processes this is (client id and profile name). @default 0 */
  readonly pass?: number;
}

/** The state of one run, shared by its scenarios. */
export class BenchContext {
  readonly rows: Row[] = [];
  /** Extra facts for the JSON file's `meta` (memory samples, latency brokers, ...). */
  readonly meta: Record<string, unknown> = {};
  private readonly t0 = performance.now();
  private readonly profileDir: string | undefined;

  constructor(
    readonly config: BenchConfig,
    readonly broker: BenchBroker,
    readonly publisher: WorkerProcess,
    readonly runId: string,
    stamp: string,
  ) {
    this.profileDir = config.profile ? join(config.resultsDir, `profiles-${stamp}`) : undefined;
    if (this.profileDir) mkdirSync(this.profileDir, { recursive: true });
  }

  /** Where this run's CPU profiles go (BENCH_PROFILE=1), else undefined. */
  get profiles(): string | undefined {
    return this.profileDir;
  }

  /** A progress line on stderr, with the seconds since the run started. */
  log(message: string): void {
    const s = ((performance.now() - this.t0) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${s}s] ${message}\n`);
  }

  /** Environment of a measured worker: where to write its CPU profile when BENCH_PROFILE=1. */
  profileEnv(name: string): Record<string, string> {
    return this.profileDir
      ? { BENCH_PROFILE_FILE: join(this.profileDir, `${name}.cpuprofile`) }
      : {};
  }

  /**
   * The topic prefix of one contestant of one group: `bench/<run id>/<group>/<tag>`, where the
   * tag is the kind's first three letters (`raw`, `mod`, `nes`, ...) so that every contestant's
   * topics are equally long: the parser and the routing pay per character.
   */
  prefix(group: string, kind: string): string {
    return `bench/${this.runId}/${group}/${kind.slice(0, 3)}`;
  }

  /** Starts a receiver subscribed to `measuredFilter(prefix(group, kind))`. */
  startReceiver(
    kind: ReceiverKind,
    group: string,
    options: ReceiverOptions,
  ): Promise<WorkerProcess> {
    const pass = options.pass ? `-p${options.pass}` : '';
    return WorkerProcess.start(`${kind} receiver (${group}${pass})`, 'receiver.ts', {
      env: {
        BENCH_KIND: kind,
        BENCH_URL: this.broker.url,
        BENCH_FILTER: measuredFilter(this.prefix(group, kind)),
        BENCH_QOS: options.qos,
        BENCH_OTHERS: options.others ?? 0,
        BENCH_SHAPE: options.shape ?? 'count',
        BENCH_CLIENT_ID: `bench-${this.runId}-${group}-${kind}${pass}`,
        ...this.profileEnv(`${group}-${kind}-receiver${pass}`),
      },
      execArgv: options.execArgv,
    });
  }

  /**
   * One measured drain: the receiver is armed for n messages and frozen (SIGSTOP); the publisher
   * publishes n messages to `topic` (`{i}` in it becomes the message number modulo `topics`),
   * which the broker queues; the receiver is resumed and times from its first message to its
   * n-th. Only the broker and the receiver run during the measurement.
   */
  async drain(
    receiver: WorkerProcess,
    topic: string,
    n: number,
    qos: 0 | 1,
    topics = 1,
  ): Promise<DrainResult> {
    await receiver.request('arm', { n });
    receiver.pause();
    try {
      await this.publisher.request('publish', { topic, n, qos, topics });
    } finally {
      receiver.resume();
    }
    return receiver.request<DrainResult>('go', { idleMs: this.config.idleMs }, 600_000);
  }
}

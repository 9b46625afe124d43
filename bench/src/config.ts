/**
 * Settings of a run, from the environment:
 * - BENCH_QUICK=1: a smoke run of about 30 s (small message counts; targets still evaluated, but
 *   the memory target only means something at 1,000,000 messages);
 * - BENCH_SCALE (default 1): multiplies the message counts (0.5 halves them);
 * - BENCH_ROUNDS (default 5, quick 3): measured rounds per contestant (the median is reported)
 *   of the scenarios that keep one process per contestant (publish, latency, matcher);
 * - BENCH_PROCESSES (default 3, quick 1) and BENCH_PROCESS_ROUNDS (default 3): the receive
 *   scenarios (receive, scale, devices, dto) start each contestant afresh this many times and
 *   measure this many rounds in each process (see receive-group.ts);
 * - BENCH_ONLY: comma-separated scenarios to run (see SCENARIOS); default all;
 * - BENCH_SIZES: other-subscription counts of the routing-scale scenario (default 10,10000);
 * - BENCH_TOPICS: distinct device topics of the `devices` scenario (default 100000);
 * - BENCH_BROKER: auto | own | system | aedes | mqtt://host:port (see broker.ts);
 * - BENCH_PROFILE=1: CPU-profile the measured workers from their first measured request to their
 *   exit (profiles-<date>/ in the results dir; their hot spots are printed);
 * - BENCH_RESULTS: directory of the JSON/SVG results (default bench/results);
 * - BENCH_VERBOSE=1: echo the workers' output;
 * - BENCH_NODE_FLAGS: extra Node/V8 flags for every worker, to look into a run
 *   (`--trace-gc`, `--perf-basic-prof` for `perf record`, ...).
 */
import { resolve } from 'node:path';

/** The scenarios, in the order a run takes them (bench/src/scenarios/<name>.ts). */
export const SCENARIOS = [
  'receive',
  'scale',
  'devices',
  'dto',
  'publish',
  'latency',
  'memory',
  'startup',
  'matcher',
  'instructions',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchConfig {
  readonly quick: boolean;
  readonly scale: number;
  readonly rounds: number;
  /**
   * Fresh receiver processes per contestant of a receive group, one after the other: the JIT
   * of one process can be luckier than another's for all its rounds, on the same code.
   */
  readonly processes: number;
  /** Measured rounds in each receiver process of a receive group. */
  readonly processRounds: number;
  readonly scenarios: ReadonlySet<Scenario>;
  readonly broker: string;
  readonly profile: boolean;
  readonly resultsDir: string;
  /** Messages per measured drain (fast contestants; slow ones get fewer, see maxDrainSec). */
  readonly receiveN: number;
  /**
   * A contestant whose drain of receiveN messages would take longer than this (the Nest
   * transport with many patterns) gets a drain sized to last about this long instead.
   */
  readonly maxDrainSec: number;
  /** Smallest drain. */
  readonly minN: number;
  /** Messages of the first (unrecorded) drain, which sizes the next ones. */
  readonly calibrateN: number;
  /** Stop waiting for a drain after this long without a message (then report the drop). */
  readonly idleMs: number;
  /** Numbers of other wildcard subscriptions of the routing-scale scenario. */
  readonly scaleSizes: readonly number[];
  /** Distinct device topics of the `devices` scenario (`…/dev<N>/data`). */
  readonly deviceTopics: number;
  /** Numbers of other wildcard subscriptions of the `devices` scenario. */
  readonly deviceOthers: readonly number[];
  /**
   * Sequential requests per round of the latency scenario; a contestant whose requests take
   * longer gets as many as fit in latencySec (at least latencyMinN).
   */
  readonly latencyN: number;
  readonly latencyMinN: number;
  readonly latencySec: number;
  /** Messages per measured publish run. */
  readonly publishN: number;
  /** Memory scenario: warm-up messages, total messages, messages per drain. */
  readonly memoryWarmupN: number;
  readonly memoryN: number;
  readonly memoryBatch: number;
  /** Handlers of the big app of the start-up scenario. */
  readonly startupHandlers: number;
  /** Filter counts of the matcher scenario, and milliseconds per measurement. */
  readonly matcherSizes: readonly number[];
  readonly matcherMs: number;
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name}=${raw}: expected a number > 0`);
  return value;
}

/** Reads the settings of this run. */
export function loadConfig(): BenchConfig {
  const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
  const scale = positive('BENCH_SCALE', 1);
  const rounds = Math.max(1, Math.round(positive('BENCH_ROUNDS', quick ? 3 : 5)));
  const only = (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of only) {
    if (!(SCENARIOS as readonly string[]).includes(name))
      throw new Error(`BENCH_ONLY: unknown scenario "${name}" (use ${SCENARIOS.join(', ')})`);
  }
  const n = (full: number, small: number): number =>
    Math.max(100, Math.round((quick ? small : full) * scale));
  const whole = (name: string, fallback: number): number =>
    Math.max(1, Math.round(positive(name, fallback)));
  return {
    quick,
    scale,
    rounds,
    processes: whole('BENCH_PROCESSES', quick ? 1 : 3),
    processRounds: whole('BENCH_PROCESS_ROUNDS', 3),
    scenarios: new Set((only.length > 0 ? only : SCENARIOS) as Scenario[]),
    broker: process.env.BENCH_BROKER ?? 'auto',
    profile: process.env.BENCH_PROFILE === '1',
    resultsDir: resolve(process.env.BENCH_RESULTS ?? resolve(__dirname, '../results')),
    receiveN: n(100_000, 10_000),
    maxDrainSec: quick ? 0.5 : 3,
    minN: quick ? 100 : 200,
    calibrateN: quick ? 100 : 500,
    idleMs: 2000,
    scaleSizes: (process.env.BENCH_SIZES ?? '10,10000').split(',').map((v) => {
      const size = Number(v);
      if (!Number.isInteger(size) || size < 0) throw new Error(`BENCH_SIZES: bad size "${v}"`);
      return size;
    }),
    deviceTopics: Math.round(positive('BENCH_TOPICS', 100_000)),
    deviceOthers: [0, 10_000],
    latencyN: n(1000, 200),
    latencyMinN: quick ? 10 : 20,
    latencySec: quick ? 0.5 : 1.5,
    publishN: n(100_000, 10_000),
    memoryWarmupN: n(50_000, 10_000),
    memoryN: n(1_000_000, 100_000),
    memoryBatch: n(100_000, 25_000),
    startupHandlers: 1000,
    matcherSizes: [10, 10_000],
    matcherMs: quick ? 150 : 600,
  };
}

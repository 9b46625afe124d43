/**
 * `npm run bench`: every comparison of the issue, side by side, in one process tree, against one
 * broker. See bench/README.md for the method and how to read the output.
 *
 * Process tree: this orchestrator (idle while measuring) → the broker (own mosquitto, or aedes in
 * a child), the load-generating publisher, and one process per measured contestant.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startBroker, type BenchBroker } from './broker';
import { loadConfig, type BenchConfig } from './config';
import { formatHotSpots } from './profile';
import {
  compareRuns,
  formatNumber,
  makeRatio,
  makeRow,
  ratiosTable,
  rowsTable,
  svgChart,
  type Ratio,
  type Row,
  type RunResult,
} from './report';
import {
  measuredFilter,
  measuredTopic,
  type DrainResult,
  type MemorySample,
  type PublishResult,
} from './shared';
import { killAllChildren, WorkerProcess } from './worker-process';

/** The contestants of the receive scenarios. */
const RECEIVERS = [
  { id: 'raw', name: 'raw MQTT.js' },
  { id: 'module', name: 'nestjs-mqtt' },
  { id: 'nest', name: 'Nest transport' },
] as const;
type ReceiverId = (typeof RECEIVERS)[number]['id'];

/** The numbers the issue's author measured (2 cores, Mosquitto 2.0.11), for reference. */
const PEERS = [
  'Issue author (2 cores, Mosquitto 2.0.11), draining 100k queued messages through one handler:',
  '  QoS 0: raw MQTT.js ~357k msg/s; Nest transport ~68k (0.19 of raw) with one pattern, ~1.9k with 1,000 other wildcard patterns',
  '  QoS 1: raw MQTT.js ~109k msg/s; Nest transport ~45k',
];

const MB = 1024 * 1024;

/** `items` rotated left by `by`: ABC, BCA, CAB, ... so each contestant takes each slot in turn. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function groupLabel(qos: number, others: number): string {
  return `QoS ${qos}, ${others.toLocaleString('en-US')} other subs`;
}

class Bench {
  readonly rows: Row[] = [];
  readonly ratios: Ratio[] = [];
  private readonly t0 = performance.now();
  private readonly profileDir: string | undefined;

  constructor(
    private readonly config: BenchConfig,
    private readonly broker: BenchBroker,
    private readonly publisher: WorkerProcess,
    private readonly runId: string,
    stamp: string,
  ) {
    this.profileDir = config.profile ? join(config.resultsDir, `profiles-${stamp}`) : undefined;
    if (this.profileDir) mkdirSync(this.profileDir, { recursive: true });
  }

  log(message: string): void {
    const s = ((performance.now() - this.t0) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${s}s] ${message}\n`);
  }

  /** Environment of a measured worker: where to write its CPU profile when BENCH_PROFILE=1. */
  private profileEnv(name: string): Record<string, string> {
    return this.profileDir
      ? { BENCH_PROFILE_FILE: join(this.profileDir, `${name}.cpuprofile`) }
      : {};
  }

  private startReceiver(
    kind: ReceiverId,
    group: string,
    qos: number,
    others: number,
    execArgv: string[] = [],
  ): Promise<WorkerProcess> {
    const prefix = `bench/${this.runId}/${group}/${kind}`;
    return WorkerProcess.start(`${kind} receiver (${group})`, 'receiver.ts', {
      env: {
        BENCH_KIND: kind,
        BENCH_URL: this.broker.url,
        BENCH_FILTER: measuredFilter(prefix),
        BENCH_QOS: qos,
        BENCH_OTHERS: others,
        BENCH_CLIENT_ID: `bench-${this.runId}-${group}-${kind}`,
        ...this.profileEnv(`${group}-${kind}-receiver`),
      },
      execArgv,
    });
  }

  /**
   * One measured drain: the receiver is armed for n messages and frozen (SIGSTOP); the publisher
   * publishes n messages, which the broker queues; the receiver is resumed and times from its
   * first message to its n-th. Only the broker and the receiver run during the measurement.
   */
  private async drain(
    receiver: WorkerProcess,
    prefix: string,
    round: string,
    n: number,
    qos: number,
    topics = 1,
  ): Promise<DrainResult> {
    await receiver.request('arm', { n });
    receiver.pause();
    try {
      await this.publisher.request('publish', {
        topic: measuredTopic(prefix, topics > 1 ? `${round}-{i}` : round),
        n,
        qos,
        topics,
      });
    } finally {
      receiver.resume();
    }
    return receiver.request<DrainResult>('go', { idleMs: this.config.idleMs }, 600_000);
  }

  /**
   * Receive and routing-scale groups: raw, module and (unless left out) the Nest transport,
   * rounds rotated. With `topics` > 1 every message of a drain goes to one of that many
   * distinct topics (all matching the measured filter), as from many devices.
   */
  async receiveGroup(
    scenario: 'receive' | 'scale',
    qos: 0 | 1,
    others: number,
    { topics = 1, withNest = true }: { topics?: number; withNest?: boolean } = {},
  ): Promise<void> {
    const group = `q${qos}-o${others}${topics > 1 ? `-t${topics}` : ''}`;
    const label = `${groupLabel(qos, others)}${topics > 1 ? `, ${topics.toLocaleString('en-US')} topics` : ''}`;
    const contestants = RECEIVERS.filter((r) => withNest || r.id !== 'nest');
    this.log(`${scenario} ${label}: starting receivers`);
    const receivers = new Map<ReceiverId, WorkerProcess>();
    try {
      const started = await Promise.all(
        contestants.map((r) => this.startReceiver(r.id, group, qos, others)),
      );
      contestants.forEach((r, i) => receivers.set(r.id, started[i]));
      const nest = receivers.get('nest');
      this.log(
        `  set up in ${contestants.map((r) => `${r.id} ${String(receivers.get(r.id)!.info.setupMs)} ms`).join(', ')}` +
          (nest
            ? `; Nest patterns ${String(nest.info.patterns)}, measured pattern at index ${String(nest.info.measuredPatternIndex)}`
            : '') +
          `; module broker filters ${String(receivers.get('module')!.info.brokerFilters)}`,
      );
      const prefix = (kind: ReceiverId): string => `bench/${this.runId}/${group}/${kind}`;

      // Calibration and warm-up (a quarter of a drain), not recorded. The warm-up rate sizes the measured drains: every
      // contestant gets receiveN messages unless that would take longer than maxDrainSec.
      const perRound = new Map<ReceiverId, number>();
      const { calibrateN, minN, receiveN, maxDrainSec } = this.config;
      const sized = (rate: number): number =>
        Math.min(receiveN, Math.max(minN, Math.round(rate * maxDrainSec)));
      for (const r of contestants) {
        const worker = receivers.get(r.id)!;
        const cal = await this.drain(
          worker,
          prefix(r.id),
          'cal',
          Math.min(calibrateN, receiveN),
          qos,
          topics,
        );
        const warm = await this.drain(
          worker,
          prefix(r.id),
          'warm',
          Math.round(sized(cal.rate) / 4),
          qos,
          topics,
        );
        perRound.set(r.id, sized(warm.rate));
      }

      const samples = new Map<ReceiverId, DrainResult[]>(contestants.map((r) => [r.id, []]));
      for (let round = 0; round < this.config.rounds; round++) {
        for (const r of rotate(contestants, round)) {
          const n = perRound.get(r.id)!;
          const t = performance.now();
          const result = await this.drain(
            receivers.get(r.id)!,
            prefix(r.id),
            `r${round}`,
            n,
            qos,
            topics,
          );
          const wall = (performance.now() - t) / 1000;
          samples.get(r.id)!.push(result);
          const dropped = result.expected - result.received;
          this.log(
            `  round ${round + 1} ${r.id.padEnd(6)} ${formatNumber(result.rate).padStart(6)} msg/s` +
              ` (${formatNumber(n)} msgs, ${result.cpuUsPerMsg.toFixed(2)} µs CPU/msg, drain ${(result.elapsedMs / 1000).toFixed(2)} s of ${wall.toFixed(2)} s${dropped ? `, ${dropped} MISSING` : ''})`,
          );
        }
      }

      for (const r of contestants) {
        const results = samples.get(r.id)!;
        const mem = await receivers.get(r.id)!.request<MemorySample & { stray: number }>('mem');
        const drops = results.reduce((sum, d) => sum + d.expected - d.received, 0);
        const notes: string[] = [];
        if (mem.stray > 0) notes.push(`${mem.stray} messages reached other handlers`);
        if (drops > 0) notes.push(`${drops} messages missing`);
        this.rows.push(
          makeRow({
            key: `${scenario}/${group}/${r.id}`,
            scenario,
            label,
            contestant: r.name,
            unit: 'msg/s',
            higherIsBetter: true,
            samples: results.map((d) => d.rate),
            perRound: perRound.get(r.id),
            drops,
            cpuUsPerMsg: medianOf(results.map((d) => d.cpuUsPerMsg)),
            note: notes.join('; ') || undefined,
          }),
        );
      }
    } finally {
      await Promise.all([...receivers.values()].map((w) => w.stop()));
    }
  }

  /** Publish: MqttService.publish against raw client.publishAsync, QoS 0 and 1. */
  async publish(): Promise<void> {
    const kinds = [
      { id: 'raw', name: 'raw MQTT.js' },
      { id: 'module', name: 'nestjs-mqtt' },
    ] as const;
    this.log('publish: starting publishers');
    const workers = await Promise.all(
      kinds.map((k) =>
        WorkerProcess.start(`${k.id} publisher`, 'pub-bench.ts', {
          env: {
            BENCH_KIND: k.id,
            BENCH_URL: this.broker.url,
            BENCH_CLIENT_ID: `bench-${this.runId}-pub-${k.id}`,
            ...this.profileEnv(`publish-${k.id}`),
          },
        }),
      ),
    );
    try {
      for (const qos of [0, 1] as const) {
        const n = this.config.publishN;
        const topic = (kind: string, round: string): string =>
          `bench/${this.runId}/pub/${kind}/q${qos}/${round}`;
        for (const [i, k] of kinds.entries()) {
          await workers[i].request('run', {
            topic: topic(k.id, 'warm'),
            n: Math.max(100, n >> 2),
            qos,
          });
        }
        const samples = kinds.map(() => [] as PublishResult[]);
        for (let round = 0; round < this.config.rounds; round++) {
          for (const i of rotate([0, 1], round)) {
            const result = await workers[i].request<PublishResult>('run', {
              topic: topic(kinds[i].id, `r${round}`),
              n,
              qos,
            });
            samples[i].push(result);
            this.log(
              `  publish QoS ${qos} round ${round + 1} ${kinds[i].id.padEnd(6)} ${formatNumber(result.rate).padStart(6)} msg/s` +
                ` (${result.cpuUsPerMsg.toFixed(2)} µs CPU/msg${result.failed ? `, ${result.failed} FAILED` : ''})`,
            );
          }
        }
        kinds.forEach((k, i) => {
          const failed = samples[i].reduce((sum, r) => sum + r.failed, 0);
          this.rows.push(
            makeRow({
              key: `publish/q${qos}/${k.id}`,
              scenario: 'publish',
              label: `QoS ${qos}`,
              contestant: k.name,
              unit: 'msg/s',
              higherIsBetter: true,
              samples: samples[i].map((r) => r.rate),
              perRound: n,
              drops: failed,
              cpuUsPerMsg: medianOf(samples[i].map((r) => r.cpuUsPerMsg)),
              note: failed ? `${failed} publishes failed` : undefined,
            }),
          );
        });
      }
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }

  /** Memory: RSS after warm-up against after memoryN messages, module and raw (reference). */
  async memory(): Promise<void> {
    const total = this.config.memoryN;
    for (const kind of ['module', 'raw'] as const) {
      const name = RECEIVERS.find((r) => r.id === kind)!.name;
      const group = 'mem';
      this.log(`memory: ${kind}, ${formatNumber(total)} messages`);
      const worker = await this.startReceiver(kind, group, 0, 0, ['--expose-gc']);
      const prefix = `bench/${this.runId}/${group}/${kind}`;
      try {
        let drops = 0;
        let warm = 0;
        while (warm < this.config.memoryWarmupN) {
          const n = Math.min(this.config.memoryBatch, this.config.memoryWarmupN - warm);
          const d = await this.drain(worker, prefix, `w${warm}`, n, 0);
          warm += n;
          drops += d.expected - d.received;
        }
        const before = await worker.request<MemorySample>('mem');
        let done = 0;
        let peakRss = before.rss;
        const rates: number[] = [];
        while (done < total) {
          const n = Math.min(this.config.memoryBatch, total - done);
          const d = await this.drain(worker, prefix, `m${done}`, n, 0);
          done += n;
          drops += d.expected - d.received;
          rates.push(d.rate);
          peakRss = Math.max(peakRss, await worker.request<number>('rss'));
        }
        const after = await worker.request<MemorySample>('mem');
        const label = `after ${formatNumber(total)} msgs vs warm-up`;
        const note = drops ? `${drops} messages missing` : undefined;
        const add = (metric: string, contestant: string, value: number): void => {
          this.rows.push(
            makeRow({
              key: `memory/${kind}/${metric}`,
              scenario: 'memory',
              label: `${metric}, ${label}`,
              contestant,
              unit: 'MB',
              higherIsBetter: false,
              samples: [value],
              perRound: total,
              drops,
              note,
            }),
          );
        };
        add('RSS growth', name, (after.rss - before.rss) / MB);
        add('heap growth', name, (after.heapUsed - before.heapUsed) / MB);
        add('peak RSS growth (no GC)', name, (peakRss - before.rss) / MB);
        this.log(
          `  ${kind}: RSS ${(before.rss / MB).toFixed(1)} → ${(after.rss / MB).toFixed(1)} MB (peak ${(peakRss / MB).toFixed(1)}), heap ${(before.heapUsed / MB).toFixed(1)} → ${(after.heapUsed / MB).toFixed(1)} MB` +
            ` (gc: ${String(after.gc)}; median ${formatNumber(medianOf(rates))} msg/s${drops ? `; ${drops} MISSING` : ''})`,
        );
        this.memorySamples.set(kind, { before, after });
      } finally {
        await worker.stop();
      }
    }
  }

  readonly memorySamples = new Map<string, { before: MemorySample; after: MemorySample }>();

  /** Start-up: bootstrap of an app with startupHandlers handlers against one with a single one. */
  async startup(): Promise<void> {
    const sizes = [1, this.config.startupHandlers];
    const samples = new Map<number, number[]>(sizes.map((s) => [s, []]));
    const processSamples = new Map<number, number[]>(sizes.map((s) => [s, []]));
    this.log(`startup: 1 vs ${this.config.startupHandlers} handlers`);
    for (let round = 0; round < this.config.rounds; round++) {
      for (const handlers of rotate(sizes, round)) {
        const t0 = performance.now();
        const worker = await WorkerProcess.start(`bootstrap ${handlers}`, 'bootstrap.ts', {
          env: {
            BENCH_HANDLERS: handlers,
            BENCH_URL: this.broker.url,
            BENCH_CLIENT_ID: `bench-${this.runId}-boot-${handlers}-${round}`,
            BENCH_PREFIX: `bench/${this.runId}/boot${handlers}`,
          },
        });
        const wall = performance.now() - t0;
        await worker.stop();
        const ms = Number(worker.info.bootstrapMs);
        if (Number(worker.info.brokerFilters) !== handlers) {
          throw new Error(
            `bootstrap with ${handlers} handlers subscribed ${String(worker.info.brokerFilters)} filters`,
          );
        }
        samples.get(handlers)!.push(ms);
        processSamples.get(handlers)!.push(wall);
        this.log(
          `  round ${round + 1}: ${handlers} handlers: bootstrap ${ms.toFixed(0)} ms (process start to ready ${wall.toFixed(0)} ms)`,
        );
      }
    }
    for (const handlers of sizes) {
      const label = `${handlers.toLocaleString('en-US')} @Subscribe handler${handlers === 1 ? '' : 's'}`;
      this.rows.push(
        makeRow({
          key: `startup/${handlers}/bootstrap`,
          scenario: 'startup',
          label,
          contestant: 'nestjs-mqtt: create + init',
          unit: 'ms',
          higherIsBetter: false,
          samples: samples.get(handlers)!,
        }),
        makeRow({
          key: `startup/${handlers}/process`,
          scenario: 'startup',
          label,
          contestant: 'process start to ready',
          unit: 'ms',
          higherIsBetter: false,
          samples: processSamples.get(handlers)!,
        }),
      );
    }
  }

  /** Matcher: TopicTree lookups per second at 10 and 10,000 filters (and a linear scan). */
  async matcher(): Promise<void> {
    const sizes = this.config.matcherSizes;
    this.log(`matcher: ${sizes.join(' vs ')} filters`);
    const worker = await WorkerProcess.start('matcher', 'matcher.ts', {
      env: { BENCH_SIZES: sizes.join(','), ...this.profileEnv('matcher') },
    });
    try {
      const combos = (['tree', 'linear'] as const).flatMap((impl) =>
        sizes.map((size) => ({ impl, size })),
      );
      const samples = new Map<string, number[]>(combos.map((c) => [`${c.impl}/${c.size}`, []]));
      for (const c of combos) {
        await worker.request('lookup', { ...c, ms: this.config.matcherMs / 2 });
      }
      for (let round = 0; round < this.config.rounds; round++) {
        for (const c of rotate(combos, round)) {
          const result = await worker.request<{
            rate: number;
            wallRate: number;
            matchedPerLookup: number;
          }>('lookup', {
            ...c,
            ms: this.config.matcherMs,
          });
          samples.get(`${c.impl}/${c.size}`)!.push(result.rate);
          this.log(
            `  round ${round + 1} ${c.impl} ${c.size}: ${formatNumber(result.rate)} lookups per CPU second (wall clock: ${formatNumber(result.wallRate)}/s; ${result.matchedPerLookup.toFixed(2)} matches per lookup)`,
          );
        }
      }
      for (const c of combos) {
        const key = `${c.impl}/${c.size}`;
        this.rows.push(
          makeRow({
            key: `matcher/${key}`,
            scenario: 'matcher',
            label: `${c.size.toLocaleString('en-US')} filters`,
            contestant: c.impl === 'tree' ? 'TopicTree.match' : 'linear topicMatches (reference)',
            unit: 'lookups/CPU s',
            higherIsBetter: true,
            samples: samples.get(key)!,
          }),
        );
      }
    } finally {
      await worker.stop();
    }
  }

  private row(key: string): Row | undefined {
    return this.rows.find((r) => r.key === key);
  }

  /** Ratios of medians and the issue's targets. */
  computeRatios(): void {
    const add = (
      key: string,
      label: string,
      num: string,
      den: string,
      target?: Ratio['target'],
      note?: string,
    ): void => {
      const a = this.row(num);
      const b = this.row(den);
      if (!a || !b) return;
      const missing = (a.drops ?? 0) + (b.drops ?? 0) > 0;
      const notes = [note, missing ? 'messages missing: unreliable' : undefined].filter(Boolean);
      this.ratios.push(
        makeRatio(key, label, a.median / b.median, target, notes.join('; ') || undefined),
      );
    };
    const atLeast = (value: number): Ratio['target'] => ({ op: '>=', value });
    for (const qos of [0, 1]) {
      const g = `receive/q${qos}-o0`;
      add(
        `receive-q${qos}-module-raw`,
        `receive QoS ${qos}: module / raw`,
        `${g}/module`,
        `${g}/raw`,
        atLeast(0.9),
      );
      add(
        `receive-q${qos}-nest-raw`,
        `receive QoS ${qos}: Nest transport / raw (author: ${qos ? '0.41' : '0.19'})`,
        `${g}/nest`,
        `${g}/raw`,
      );
      add(
        `receive-q${qos}-module-nest`,
        `receive QoS ${qos}: module / Nest transport`,
        `${g}/module`,
        `${g}/nest`,
      );
    }
    for (const size of this.config.scaleSizes) {
      const g = `scale/q0-o${size}`;
      const n = size.toLocaleString('en-US');
      add(
        `scale-${size}-module-raw`,
        `${n} other subs: module / raw (same subs)`,
        `${g}/module`,
        `${g}/raw`,
      );
      add(
        `scale-${size}-module-raw1`,
        `${n} other subs: module / raw with one sub`,
        `${g}/module`,
        'receive/q0-o0/raw',
        size === 10_000 ? atLeast(0.85) : undefined,
      );
      add(
        `scale-${size}-module-nest`,
        `${n} other subs: module / Nest transport`,
        `${g}/module`,
        `${g}/nest`,
        size === 10_000 ? atLeast(10) : undefined,
      );
    }
    const big = Math.max(...this.config.scaleSizes);
    const t = this.config.distinctTopics;
    if (t > 1) {
      const g = `scale/q0-o${big}-t${t}`;
      const label = `${big.toLocaleString('en-US')} other subs, ${t.toLocaleString('en-US')} topics`;
      add(
        `scale-${big}-t${t}-module-raw`,
        `${label}: module / raw (same subs)`,
        `${g}/module`,
        `${g}/raw`,
      );
      add(
        `scale-${big}-t${t}-module-raw1`,
        `${label}: module / raw with one sub`,
        `${g}/module`,
        'receive/q0-o0/raw',
      );
    }
    for (const qos of [0, 1]) {
      add(
        `publish-q${qos}-module-raw`,
        `publish QoS ${qos}: module / raw`,
        `publish/q${qos}/module`,
        `publish/q${qos}/raw`,
        atLeast(0.9),
      );
    }
    const growth = this.row('memory/module/RSS growth');
    if (growth) {
      const full = this.config.memoryN >= 1_000_000;
      this.ratios.push(
        makeRatio(
          'memory-module-rss-growth',
          `module RSS growth after ${formatNumber(this.config.memoryN)} msgs`,
          growth.median,
          { op: '<', value: 30, unit: 'MB' },
          full ? undefined : 'target is for 1M messages',
        ),
      );
    }
    const handlers = this.config.startupHandlers;
    add(
      'startup-ratio',
      `bootstrap: ${handlers.toLocaleString('en-US')} handlers / 1 handler`,
      `startup/${handlers}/bootstrap`,
      'startup/1/bootstrap',
    );
    const [small, large] = this.config.matcherSizes;
    add(
      'matcher-tree-ratio',
      `TopicTree lookups: ${large.toLocaleString('en-US')} / ${small.toLocaleString('en-US')} filters`,
      `matcher/tree/${large}`,
      `matcher/tree/${small}`,
      atLeast(0.5),
    );
    add(
      'matcher-linear-ratio',
      `linear scan lookups: ${large.toLocaleString('en-US')} / ${small.toLocaleString('en-US')} filters`,
      `matcher/linear/${large}`,
      `matcher/linear/${small}`,
    );
  }

  /** Prints the hot spots of every profile written by this run. */
  printProfiles(): void {
    if (!this.profileDir) return;
    for (const file of readdirSync(this.profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
      console.log(`\n${formatHotSpots(join(this.profileDir, file), 15)}`);
    }
  }
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

async function runBench(): Promise<void> {
  const config = loadConfig();
  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const runId = `r${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const load0 = loadavg();
  const t0 = performance.now();
  mkdirSync(config.resultsDir, { recursive: true });

  const broker = await startBroker(config.broker);
  process.stderr.write(`broker: ${broker.description}\n`);
  let publisher: WorkerProcess | undefined;
  let bench: Bench | undefined;
  try {
    publisher = await WorkerProcess.start('publisher', 'publisher.ts', {
      env: {
        BENCH_URL: broker.url,
        BENCH_CLIENT_ID: `bench-${runId}-load`,
        BENCH_FENCE: `bench/${runId}/fence`,
      },
    });
    bench = new Bench(config, broker, publisher, runId, stamp);
    bench.log(
      `run ${runId}: ${config.quick ? 'QUICK, ' : ''}scale ${config.scale}, ${config.rounds} rounds, ` +
        `scenarios ${[...config.scenarios].join(', ')}`,
    );
    if (config.scenarios.has('receive')) {
      await bench.receiveGroup('receive', 0, 0);
      await bench.receiveGroup('receive', 1, 0);
    }
    if (config.scenarios.has('scale')) {
      for (const size of config.scaleSizes) await bench.receiveGroup('scale', 0, size);
      if (config.distinctTopics > 1) {
        await bench.receiveGroup('scale', 0, Math.max(...config.scaleSizes), {
          topics: config.distinctTopics,
          withNest: false,
        });
      }
    }
    if (config.scenarios.has('publish')) await bench.publish();
    if (config.scenarios.has('memory')) await bench.memory();
    if (config.scenarios.has('startup')) await bench.startup();
    if (config.scenarios.has('matcher')) await bench.matcher();
  } finally {
    await publisher?.stop();
    await broker.stop();
  }

  bench.computeRatios();
  const durationSec = (performance.now() - t0) / 1000;
  const cpu = cpus();
  const result: RunResult = {
    meta: {
      date: started.toISOString(),
      durationSec: Number(durationSec.toFixed(1)),
      runId,
      commit: gitCommit(),
      node: process.version,
      platform: `${platform()} ${arch()}`,
      cpus: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
      memoryGB: Number((totalmem() / 1024 ** 3).toFixed(1)),
      loadavgStart: load0.map((l) => Number(l.toFixed(2))),
      loadavgEnd: loadavg().map((l) => Number(l.toFixed(2))),
      broker: broker.description,
      brokerKind: broker.kind,
      method:
        'receive: the receiver is frozen (SIGSTOP) while a separate publisher process sends N messages that the broker queues, then resumed; rate = N / (time from the first bytes read after resuming to the handler call of the N-th message). Medians of the rounds; contestants alternate (ABC, BCA, CAB...). matcher: lookups per CPU second.',
      config: { ...config, scenarios: [...config.scenarios] },
      memory: Object.fromEntries(bench.memorySamples),
    },
    rows: bench.rows,
    ratios: bench.ratios,
    peers: PEERS,
  };

  const jsonFile = join(config.resultsDir, `bench-${stamp}.json`);
  const svgFile = join(config.resultsDir, `bench-${stamp}.svg`);
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const svg = svgChart(result);
  writeFileSync(jsonFile, json);
  writeFileSync(svgFile, svg);
  writeFileSync(join(config.resultsDir, 'latest.json'), json);
  writeFileSync(join(config.resultsDir, 'latest.svg'), svg);

  console.log('');
  console.log(
    `nestjs-mqtt benchmarks — ${result.meta.date as string} — ${result.meta.cpus as string}, node ${process.version}`,
  );
  console.log(`broker: ${broker.description}`);
  console.log(
    `${config.quick ? 'QUICK run (BENCH_QUICK=1): small counts, numbers are indicative only. ' : ''}` +
      `${config.rounds} rounds per contestant, medians; load average ${load0.map((l) => l.toFixed(2)).join(' ')} → ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  console.log('');
  console.log(rowsTable(result.rows));
  const notes = result.rows.filter((r) => r.note).map((r) => `  ${r.key}: ${r.note!}`);
  if (notes.length) console.log(`\nnotes:\n${notes.join('\n')}`);
  console.log('');
  console.log(ratiosTable(result.ratios));
  console.log('');
  console.log(PEERS.join('\n'));
  bench.printProfiles();
  console.log('');
  console.log(
    `results: ${relative(process.cwd(), jsonFile)}, ${relative(process.cwd(), svgFile)} (also latest.json, latest.svg)`,
  );
  console.log(`duration: ${durationSec.toFixed(1)} s`);
}

function usage(): string {
  return [
    'usage: npm run bench                      run the benchmarks (see bench/README.md)',
    '       npm run bench -- --compare A.json B.json   compare two result files',
    '       npm run bench -- --profile FILE.cpuprofile [--only REGEXP]  hot spots of a CPU profile',
  ].join('\n');
}

/** Entry point of bench/run.js. */
export function main(argv: string[]): void {
  const exitOnSignal = (signal: NodeJS.Signals): void => {
    killAllChildren();
    process.stderr.write(`\ninterrupted (${signal})\n`);
    process.exit(130);
  };
  process.once('SIGINT', exitOnSignal);
  process.once('SIGTERM', exitOnSignal);
  process.once('exit', killAllChildren);

  if (argv[0] === '--help' || argv[0] === '-h') {
    console.log(usage());
    return;
  }
  if (argv[0] === '--compare') {
    if (argv.length !== 3) throw new Error(usage());
    console.log(compareRuns(argv[1], argv[2]));
    return;
  }
  if (argv[0] === '--profile') {
    // --profile FILE... [--only REGEXP]: REGEXP filters the total-time list (e.g. libs/mqtt).
    const at = argv.indexOf('--only');
    const filter = at > 0 ? new RegExp(argv[at + 1]) : undefined;
    const files = at > 0 ? argv.slice(1, at) : argv.slice(1);
    for (const file of files) console.log(formatHotSpots(file, 25, filter));
    return;
  }
  if (argv.length > 0) throw new Error(`unknown arguments: ${argv.join(' ')}\n${usage()}`);
  runBench().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    killAllChildren();
    process.exit(1);
  });
}

/**
 * One receive comparison ("group"): every contestant's receiver started side by side, warmed up,
 * then drained in rounds whose order rotates; all that again in fresh processes (config
 * `processes`); one row per contestant (median msg/s, CPU µs/msg). The receive, scale, devices
 * and dto scenarios are groups with different settings.
 */
import { performance } from 'node:perf_hooks';
import { rotate, type BenchContext, type ReceiverKind } from './context';
import { formatNumber, makeRow, median } from './report';
import {
  deviceTopics,
  measuredTopic,
  type DrainResult,
  type HandlerShape,
  type MemorySample,
} from './shared';
import type { WorkerProcess } from './worker-process';

/** A contestant of a group: its receiver kind and its name in the table. */
export interface Contestant {
  readonly id: ReceiverKind;
  readonly name: string;
}

/** The contestants of the plain receive scenarios. */
export const RECEIVERS: readonly Contestant[] = [
  { id: 'raw', name: 'raw MQTT.js' },
  { id: 'module', name: 'nestjs-mqtt' },
  { id: 'nest', name: 'Nest transport' },
];

/** What a group measures. */
export interface GroupSpec {
  readonly scenario: string;
  /** Part of the row keys: `<scenario>/<group>/<contestant>`. */
  readonly group: string;
  /** The condition column of the table. */
  readonly label: string;
  readonly qos: 0 | 1;
  readonly others: number;
  readonly shape: HandlerShape;
  /** Distinct device topics (`…/dev<i>/data`); 1: one topic per round. @default 1 */
  readonly topics?: number;
  readonly contestants: readonly Contestant[];
}

/** What one contestant's processes of a group measured. */
interface Measured {
  /** Per process, its measured drains in order. */
  readonly passes: DrainResult[][];
  stray: number;
  bad: number;
}

/**
 * Runs one group and adds its rows to `ctx.rows`: `config.processes` passes, each with fresh
 * receivers of every contestant, warmed up and drained `config.processRounds` times. The drain
 * size of each contestant is fixed by the first pass.
 */
export async function runReceiveGroup(ctx: BenchContext, spec: GroupSpec): Promise<void> {
  const measured = new Map<ReceiverKind, Measured>(
    spec.contestants.map((c) => [c.id, { passes: [], stray: 0, bad: 0 }]),
  );
  const perRound = new Map<ReceiverKind, number>();
  for (let pass = 0; pass < ctx.config.processes; pass++) {
    await runPass(ctx, spec, pass, perRound, measured);
  }
  for (const c of spec.contestants) {
    pushRow(ctx, spec, c, perRound.get(c.id)!, measured.get(c.id)!);
  }
}

/** One pass of a group: its receivers started side by side, warmed up, drained, stopped. */
async function runPass(
  ctx: BenchContext,
  spec: GroupSpec,
  pass: number,
  perRound: Map<ReceiverKind, number>,
  measured: Map<ReceiverKind, Measured>,
): Promise<void> {
  const { group, qos, others, shape, contestants } = spec;
  const topics = spec.topics ?? 1;
  // Topic prefix, client ids and profile names: unique per scenario and group.
  const where = `${spec.scenario}-${group}`;
  const passes = ctx.config.processes;
  ctx.log(
    `${spec.scenario} ${spec.label}: starting receivers` +
      (passes > 1 ? ` (process ${pass + 1} of ${passes})` : ''),
  );
  const receivers = new Map<ReceiverKind, WorkerProcess>();
  try {
    const started = await Promise.all(
      contestants.map((c) => ctx.startReceiver(c.id, where, { qos, others, shape, pass })),
    );
    contestants.forEach((c, i) => receivers.set(c.id, started[i]));
    const nest = receivers.get('nest');
    const module = receivers.get('module');
    ctx.log(
      `  set up in ${contestants.map((c) => `${c.id} ${String(receivers.get(c.id)!.info.setupMs)} ms`).join(', ')}` +
        (nest
          ? `; Nest patterns ${String(nest.info.patterns)}, measured pattern at index ${String(nest.info.measuredPatternIndex)}`
          : '') +
        (module ? `; module broker filters ${String(module.info.brokerFilters)}` : ''),
    );
    // Round names carry the pass: `p1r0`; as long for every contestant.
    const topic = (id: ReceiverKind, round: string): string =>
      topics > 1
        ? deviceTopics(ctx.prefix(where, id))
        : measuredTopic(ctx.prefix(where, id), `p${pass}${round}`);

    // Calibration and two warm-ups (a quarter of a drain each), not recorded. The second
    // warm-up sizes the measured drains (the first still runs cold code: class-validator's
    // first thousands of messages cost several times the rest): every contestant gets receiveN
    // messages unless that would take longer than maxDrainSec of CPU time (by CPU time, so a
    // busy machine does not shrink the drains of a fast contestant). Later passes keep the
    // first pass's sizes, so that every process of a contestant drains as many messages.
    const { calibrateN, minN, receiveN, maxDrainSec } = ctx.config;
    const sized = (d: DrainResult): number => {
      const rate = d.cpuUsPerMsg > 0 ? Math.max(d.rate, 1e6 / d.cpuUsPerMsg) : d.rate;
      return Math.min(receiveN, Math.max(minN, Math.round(rate * maxDrainSec)));
    };
    for (const c of contestants) {
      const worker = receivers.get(c.id)!;
      const known = perRound.get(c.id);
      let warm = await ctx.drain(
        worker,
        topic(c.id, 'cal'),
        Math.min(calibrateN, receiveN),
        qos,
        topics,
      );
      for (const round of ['warm1', 'warm2']) {
        const n = Math.round((known ?? sized(warm)) / 4);
        warm = await ctx.drain(worker, topic(c.id, round), n, qos, topics);
      }
      if (known === undefined) perRound.set(c.id, sized(warm));
    }

    const results = new Map<ReceiverKind, DrainResult[]>(contestants.map((c) => [c.id, []]));
    for (let round = 0; round < ctx.config.processRounds; round++) {
      // Rotation goes on across passes: ABC, BCA, CAB, ABC, ...
      for (const c of rotate(contestants, pass * ctx.config.processRounds + round)) {
        const n = perRound.get(c.id)!;
        const t = performance.now();
        const result = await ctx.drain(
          receivers.get(c.id)!,
          topic(c.id, `r${round}`),
          n,
          qos,
          topics,
        );
        const wall = (performance.now() - t) / 1000;
        results.get(c.id)!.push(result);
        const dropped = result.expected - result.received;
        const name = passes > 1 ? `${pass + 1}.${round + 1}` : `${round + 1}`;
        ctx.log(
          `  round ${name} ${c.id.padEnd(6)} ${formatNumber(result.rate).padStart(6)} msg/s` +
            ` (${formatNumber(n)} msgs, ${result.cpuUsPerMsg.toFixed(2)} µs CPU/msg, drain ${(result.elapsedMs / 1000).toFixed(2)} s of ${wall.toFixed(2)} s${dropped ? `, ${dropped} MISSING` : ''})` +
            countersText(result),
        );
      }
    }
    for (const c of contestants) {
      const m = measured.get(c.id)!;
      m.passes.push(results.get(c.id)!);
      const mem = await receivers
        .get(c.id)!
        .request<MemorySample & { stray: number; bad: number }>('mem');
      m.stray += mem.stray;
      m.bad += mem.bad;
    }
  } finally {
    await Promise.all([...receivers.values()].map((w) => w.stop()));
  }
}

/**
 * One contestant's row: the median of all its rounds by rate and by CPU time per message; its
 * "best" CPU time is the median over its processes of each process's least (interference only
 * adds time within a process; the median then keeps one process's luckier JIT from deciding).
 */
function pushRow(ctx: BenchContext, spec: GroupSpec, c: Contestant, n: number, m: Measured): void {
  const results = m.passes.flat();
  const drops = results.reduce((sum, d) => sum + d.expected - d.received, 0);
  const notes: string[] = [];
  if (m.stray > 0) notes.push(`${m.stray} messages reached other handlers`);
  if (m.bad > 0) notes.push(`${m.bad} handler calls got a wrong value`);
  if (drops > 0) notes.push(`${drops} messages missing`);
  const topics = spec.topics ?? 1;
  if (topics > 1 && n < topics) notes.push(`${formatNumber(n)} distinct topics per round`);
  ctx.rows.push(
    makeRow({
      key: `${spec.scenario}/${spec.group}/${c.id}`,
      scenario: spec.scenario,
      label: spec.label,
      contestant: c.name,
      unit: 'msg/s',
      higherIsBetter: true,
      samples: results.map((d) => d.rate),
      perRound: n,
      drops,
      cpuUsPerMsg: median(results.map((d) => d.cpuUsPerMsg)),
      cpuBestUsPerMsg: median(m.passes.map((p) => Math.min(...p.map((d) => d.cpuUsPerMsg)))),
      note: notes.join('; ') || undefined,
    }),
  );
}

/**
 * `; main thread 1.48 µs/msg, 239 reads, 7 waits, 95 preemptions`: where a drain's time went,
 * when /proc told (a main thread close to the CPU total means GC helpers cost little; waits
 * mean the socket ran dry; preemptions, a busy machine).
 */
function countersText(result: DrainResult): string {
  const c = result.counters;
  if (!c || c.mainThreadNs === 0 || result.received === 0) return '';
  const mainUs = c.mainThreadNs / 1000 / result.received;
  return (
    `; main thread ${mainUs.toFixed(2)} µs/msg, ${c.reads.toLocaleString('en-US')} reads,` +
    ` ${c.voluntarySwitches.toLocaleString('en-US')} waits,` +
    ` ${c.forcedSwitches.toLocaleString('en-US')} preemptions`
  );
}

/** `QoS 0, 1,000 other subs`. */
export function groupLabel(qos: number, others: number): string {
  return `QoS ${qos}, ${others.toLocaleString('en-US')} other subs`;
}

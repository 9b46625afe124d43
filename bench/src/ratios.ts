/**
 * The ratios of a run, from its rows: by wall clock and by CPU time per message side by side,
 * each judged against its target (targets.ts). The verdict uses the wall-clock ratio unless the
 * rounds of either row disagree by more than NOISE_LIMIT (a shared, busy machine); then it uses
 * the ratio of each row's least CPU time per message (interference only ever adds time, so the
 * best round of each contestant is its least disturbed one), or the median CPU ratio where
 * rounds have no CPU figures, and says so.
 */
import type { BenchConfig } from './config';
import { formatNumber, spread, type Ratio, type Row } from './report';
import { targetOf } from './targets';

/** Above this (max - min) / median of a row's rounds, its wall-clock median is called noisy. */
export const NOISE_LIMIT = 0.2;

/** Checks `value` against the target of `key`. */
export function judge(
  key: string,
  fields: Omit<Ratio, 'key' | 'target' | 'pass' | 'basis'>,
  basis?: Ratio['basis'],
): Ratio {
  const target = targetOf(key);
  const noisy = (fields.spread ?? 0) > NOISE_LIMIT && fields.cpuValue !== undefined;
  const used = basis ?? (noisy ? (fields.cpuBestValue !== undefined ? 'CPU best' : 'CPU') : 'wall');
  const value =
    used === 'CPU best' && fields.cpuBestValue !== undefined
      ? fields.cpuBestValue
      : used === 'CPU' && fields.cpuValue !== undefined
        ? fields.cpuValue
        : fields.value;
  let pass: boolean | undefined;
  if (target && Number.isFinite(value)) {
    pass = target.op === '>=' ? value >= target.value : value < target.value;
  }
  return { key, ...fields, target, pass, basis: target ? used : undefined };
}

/**
 * How fast `subject` is relative to `reference` (above 1: faster): for rates the ratio of the
 * medians, for times (latencies) the inverse; by CPU, reference CPU per message / subject's.
 */
export function speedRatio(
  key: string,
  label: string,
  subject: Row,
  reference: Row,
  note?: string,
): Ratio {
  const value = subject.higherIsBetter
    ? subject.median / reference.median
    : reference.median / subject.median;
  const cpuValue =
    subject.cpuUsPerMsg && reference.cpuUsPerMsg
      ? reference.cpuUsPerMsg / subject.cpuUsPerMsg
      : undefined;
  const cpuBestValue =
    subject.cpuBestUsPerMsg && reference.cpuBestUsPerMsg
      ? reference.cpuBestUsPerMsg / subject.cpuBestUsPerMsg
      : undefined;
  const missing = (subject.drops ?? 0) + (reference.drops ?? 0) > 0;
  const notes = [note, missing ? 'messages missing: unreliable' : undefined].filter(Boolean);
  return judge(key, {
    label,
    value,
    cpuValue,
    cpuBestValue,
    spread: Math.max(spread(subject), spread(reference)),
    note: notes.join('; ') || undefined,
  });
}

/** Every ratio whose rows this run measured. */
export function computeRatios(rows: readonly Row[], config: BenchConfig): Ratio[] {
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const ratios: Ratio[] = [];
  const speed = (key: string, label: string, subject: string, reference: string): void => {
    const a = byKey.get(subject);
    const b = byKey.get(reference);
    if (a && b) ratios.push(speedRatio(key, label, a, b));
  };
  const n = (value: number): string => value.toLocaleString('en-US');

  for (const qos of [0, 1]) {
    const g = `receive/q${qos}-o0`;
    speed(
      `receive-q${qos}-module-raw`,
      `receive QoS ${qos}: module / raw`,
      `${g}/module`,
      `${g}/raw`,
    );
    speed(
      `receive-q${qos}-nest-raw`,
      `receive QoS ${qos}: Nest transport / raw (author: ${qos ? '0.41' : '0.19'})`,
      `${g}/nest`,
      `${g}/raw`,
    );
    speed(
      `receive-q${qos}-module-nest`,
      `receive QoS ${qos}: module / Nest transport`,
      `${g}/module`,
      `${g}/nest`,
    );
  }
  for (const size of config.scaleSizes) {
    const g = `scale/q0-o${size}`;
    speed(
      `scale-${size}-module-raw`,
      `${n(size)} other subs: module / raw (same subs)`,
      `${g}/module`,
      `${g}/raw`,
    );
    speed(
      `scale-${size}-module-raw1`,
      `${n(size)} other subs: module / raw with one sub`,
      `${g}/module`,
      'receive/q0-o0/raw',
    );
    speed(
      `scale-${size}-module-nest`,
      `${n(size)} other subs: module / Nest transport`,
      `${g}/module`,
      `${g}/nest`,
    );
  }
  for (const others of config.deviceOthers) {
    const g = `devices/q0-o${others}-t${config.deviceTopics}`;
    const label = `${n(config.deviceTopics)} device topics, ${n(others)} other subs`;
    speed(`devices-o${others}-module-raw`, `${label}: module / raw`, `${g}/module`, `${g}/raw`);
    speed(
      `devices-o${others}-module-nest`,
      `${label}: module / Nest transport`,
      `${g}/module`,
      `${g}/nest`,
    );
    speed(`devices-o${others}-nest-raw`, `${label}: Nest transport / raw`, `${g}/nest`, `${g}/raw`);
  }
  speed(
    'dto-module-raw',
    'validated DTO: module / raw + class-validator',
    'dto/q0-o0/module',
    'dto/q0-o0/raw',
  );
  speed(
    'dto-module-nest',
    'validated DTO: module / Nest transport + ValidationPipe',
    'dto/q0-o0/module',
    'dto/q0-o0/nest',
  );
  speed(
    'dto-nest-raw',
    'validated DTO: Nest transport + ValidationPipe / raw',
    'dto/q0-o0/nest',
    'dto/q0-o0/raw',
  );
  for (const qos of [0, 1]) {
    speed(
      `publish-q${qos}-module-raw`,
      `publish QoS ${qos}: module / raw`,
      `publish/q${qos}/module`,
      `publish/q${qos}/raw`,
    );
  }
  for (const setting of ['nodelay', 'nagle']) {
    for (const qos of [0, 1]) {
      const g = `latency/${setting}/q${qos}`;
      const when = `request/reply QoS ${qos}, ${setting === 'nodelay' ? 'Nagle off' : 'Nagle on'}`;
      for (const p of [50, 99]) {
        speed(
          `latency-${setting}-q${qos}${p === 50 ? '' : '-p99'}-module-raw`,
          `${when}, p${p}: module speed / raw`,
          `${g}/module/p${p}`,
          `${g}/raw/p${p}`,
        );
      }
      speed(
        `latency-${setting}-q${qos}-nest-raw`,
        `${when}, p50: Nest send() speed / raw`,
        `${g}/nest/p50`,
        `${g}/raw/p50`,
      );
    }
  }
  for (const [group, label] of [
    ['device-o0', 'device topics'],
    ['device-o10000', 'device topics, 10,000 other subs'],
    ['dto-o0', 'validated DTO'],
  ]) {
    const a = byKey.get(`instructions/${group}/module`);
    const b = byKey.get(`instructions/${group}/raw`);
    if (a && b) {
      ratios.push(
        judge(
          `instructions-${group}-module-raw`,
          { label: `instructions per message, ${label}: raw / module`, value: b.median / a.median },
          'value',
        ),
      );
    }
  }
  const growth = byKey.get('memory/module/RSS growth');
  if (growth) {
    const full = config.memoryN >= 1_000_000;
    ratios.push(
      judge(
        'memory-module-rss-growth',
        {
          label: `module RSS growth after ${formatNumber(config.memoryN)} msgs`,
          value: growth.median,
          note: full ? undefined : 'target is for 1M messages',
        },
        'value',
      ),
    );
  }
  const plain = (key: string, label: string, num: string, den: string, cpu = false): void => {
    const a = byKey.get(num);
    const b = byKey.get(den);
    const note = cpu ? 'rates per CPU second' : undefined;
    if (a && b)
      ratios.push(judge(key, { label, value: a.median / b.median, note }, cpu ? 'CPU' : 'value'));
  };
  const handlers = config.startupHandlers;
  plain(
    'startup-ratio',
    `bootstrap time: ${n(handlers)} handlers / 1 handler`,
    `startup/${handlers}/bootstrap`,
    'startup/1/bootstrap',
  );
  const [small, large] = config.matcherSizes;
  plain(
    'matcher-tree-ratio',
    `TopicTree lookups: ${n(large)} / ${n(small)} filters`,
    `matcher/tree/${large}`,
    `matcher/tree/${small}`,
    true,
  );
  plain(
    'matcher-linear-ratio',
    `linear scan lookups: ${n(large)} / ${n(small)} filters`,
    `matcher/linear/${large}`,
    `matcher/linear/${small}`,
    true,
  );
  return ratios;
}

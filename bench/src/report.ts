/**
 * Results of a run: rows (medians of the rounds) and ratios, printed as tables; and the comparison
 * of two JSON files. The SVG chart is in svg.ts, the ratios in ratios.ts, the targets in targets.ts.
 */
import { readFileSync } from 'node:fs';

/** One measured quantity of one contestant, over the rounds of a run. */
export interface Row {
  /** Stable identifier, for comparing runs: `receive/q0/o0/module`. */
  readonly key: string;
  readonly scenario: string;
  /** The condition: `QoS 0, 1,000 other subscriptions`. */
  readonly label: string;
  readonly contestant: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly samples: number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Messages (or lookups) per round. */
  readonly perRound?: number;
  /** Messages missing over all rounds (sent but never received). */
  readonly drops?: number;
  /** Median CPU time of the measured process per message, in microseconds. */
  readonly cpuUsPerMsg?: number;
  /**
   * The least CPU time per message of the rounds, the least disturbed by the machine; where a
   * row's rounds come from several processes, the median over its processes of each one's least.
   */
  readonly cpuBestUsPerMsg?: number;
  readonly note?: string;
}

/** A target of the table in targets.ts, as a ratio carries it. */
export interface RatioTarget {
  readonly op: '>=' | '<';
  readonly value: number;
  readonly unit?: string;
}

/** A ratio between two rows (or one row's value), possibly with the issue's target. */
export interface Ratio {
  readonly key: string;
  readonly label: string;
  /** By wall-clock time (rates, latencies), or the value itself (memory, time ratios). */
  readonly value: number;
  /** The same ratio by CPU time per message of the measured processes, when both rows have it. */
  readonly cpuValue?: number;
  /** The same by the least CPU time per message of each row's rounds. */
  readonly cpuBestValue?: number;
  readonly target?: RatioTarget;
  /** The verdict against the target, by `basis`. */
  readonly pass?: boolean;
  /**
   * What the verdict used: wall clock; the best rounds by CPU time (the wall-clock rounds were
   * noisy); CPU time (noisy, no per-round CPU figures, or rates per CPU second); or the value
   * itself (memory).
   */
  readonly basis?: 'wall' | 'CPU best' | 'CPU' | 'value';
  /** The larger relative spread of the two rows' rounds, (max - min) / median. */
  readonly spread?: number;
  readonly note?: string;
}

/** The JSON file of a run. */
export interface RunResult {
  readonly meta: Record<string, unknown>;
  readonly rows: Row[];
  readonly ratios: Ratio[];
  readonly peers: readonly string[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The p-th percentile (nearest rank) of `values`: percentile(v, 50) is a median of v. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** (max - min) / median of a row's samples: how much the rounds disagree. */
export function spread(row: Pick<Row, 'min' | 'max' | 'median'>): number {
  return row.median > 0 ? (row.max - row.min) / row.median : 0;
}

/** Builds a row from its samples. */
export function makeRow(fields: Omit<Row, 'median' | 'min' | 'max'> & { samples: number[] }): Row {
  return {
    ...fields,
    median: median(fields.samples),
    min: Math.min(...fields.samples),
    max: Math.max(...fields.samples),
  };
}

/** 1234567 → "1.23M", 12345 → "12.3k", 12.345 → "12.3". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e7 ? 1 : 2)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(abs >= 1e5 ? 0 : 1)}k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatValue(value: number, unit: string): string {
  if (unit === 'ms' && value < 10) return `${value.toFixed(3)} ${unit}`;
  return unit === 'MB' || unit === 'ms'
    ? `${value.toFixed(1)} ${unit}`
    : `${formatNumber(value)} ${unit}`;
}

/** `min..max` of a row, latencies to the microsecond. */
function formatSpan(r: Row): string {
  if (r.unit === 'ms' && r.max < 10) return `${r.min.toFixed(3)}..${r.max.toFixed(3)}`;
  return `${formatNumber(r.min)}..${formatNumber(r.max)}`;
}

/** `100k × 5`, `34 × 3`: messages (or requests) per round × rounds. */
function formatPerRound(r: Row): string {
  if (r.perRound === undefined) return '';
  const n = r.perRound < 10_000 ? String(Math.round(r.perRound)) : formatNumber(r.perRound);
  return `${n} × ${r.samples.length}`;
}

/** Renders rows of cells as a plain-text table with a header rule. */
export function table(header: string[], body: string[][], rightAligned: number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The rows as a table. */
export function rowsTable(rows: readonly Row[]): string {
  return table(
    [
      'scenario',
      'condition',
      'contestant',
      'median',
      'min..max',
      'per round',
      'drops',
      'CPU µs/msg',
    ],
    rows.map((r) => [
      r.scenario,
      r.label,
      r.contestant,
      formatValue(r.median, r.unit),
      formatSpan(r),
      formatPerRound(r),
      r.drops === undefined ? '' : String(r.drops),
      r.cpuUsPerMsg === undefined ? '' : r.cpuUsPerMsg.toFixed(2),
    ]),
    [3, 4, 5, 6, 7],
  );
}

export function formatRatio(r: Ratio): string {
  return r.target?.unit ? `${r.value.toFixed(1)} ${r.target.unit}` : `${r.value.toFixed(3)}`;
}

/** `>= 0.9`, `< 30 MB`. */
export function formatTarget(target: RatioTarget | undefined): string {
  return target ? `${target.op} ${target.value}${target.unit ? ` ${target.unit}` : ''}` : '';
}

/** `PASS (wall)`, `MISS (CPU; wall spread 34%)`. */
export function formatVerdict(r: Ratio): string {
  if (r.pass === undefined) return r.note ?? '';
  const why =
    (r.basis === 'CPU' || r.basis === 'CPU best') && r.spread !== undefined
      ? `${r.basis}; wall spread ${(r.spread * 100).toFixed(0)}%`
      : (r.basis ?? 'value');
  return `${r.pass ? 'PASS' : 'MISS'} (${why})${r.note ? `; ${r.note}` : ''}`;
}

/** The ratios as a table: by wall clock and by CPU time, their targets and verdicts. */
export function ratiosTable(ratios: readonly Ratio[]): string {
  return table(
    ['ratio', 'wall', 'CPU', 'CPU best', 'target', 'result'],
    ratios.map((r) => [
      r.label,
      formatRatio(r),
      r.cpuValue === undefined ? '' : r.cpuValue.toFixed(3),
      r.cpuBestValue === undefined ? '' : r.cpuBestValue.toFixed(3),
      formatTarget(r.target),
      formatVerdict(r),
    ]),
    [1, 2, 3],
  );
}

/** Compares two result files: medians and ratios side by side. */
export function compareRuns(fileA: string, fileB: string): string {
  const a = JSON.parse(readFileSync(fileA, 'utf8')) as RunResult;
  const b = JSON.parse(readFileSync(fileB, 'utf8')) as RunResult;
  const rowsB = new Map(b.rows.map((r) => [r.key, r]));
  const rowLines = a.rows
    .filter((r) => rowsB.has(r.key))
    .map((r) => {
      const other = rowsB.get(r.key)!;
      const change = other.median / r.median - 1;
      return [
        r.key,
        formatValue(r.median, r.unit),
        formatValue(other.median, r.unit),
        `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%`,
      ];
    });
  const ratiosB = new Map(b.ratios.map((r) => [r.key, r]));
  const ratioLines = a.ratios
    .filter((r) => ratiosB.has(r.key))
    .map((r) => {
      const other = ratiosB.get(r.key)!;
      return [
        r.label,
        formatRatio(r),
        formatRatio(other),
        r.cpuValue === undefined ? '' : r.cpuValue.toFixed(3),
        other.cpuValue === undefined ? '' : other.cpuValue.toFixed(3),
        other.pass === undefined ? '' : formatVerdict(other),
      ];
    });
  return [
    `A: ${fileA} (${String(a.meta.date)})`,
    `B: ${fileB} (${String(b.meta.date)})`,
    '',
    table(['measurement', 'A', 'B', 'B vs A'], rowLines, [1, 2, 3]),
    '',
    table(['ratio', 'A wall', 'B wall', 'A CPU', 'B CPU', 'B result'], ratioLines, [1, 2, 3, 4]),
  ].join('\n');
}

/** The rows and the ratios of a result file as Markdown tables (for docs/benchmarks.md). */
export function markdownTables(file: string): string {
  const run = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  return [
    '| scenario | condition | contestant | median | min..max | per round | CPU µs/msg |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
    ...run.rows.map(
      (r) =>
        `| ${r.scenario} | ${cell(r.label)} | ${cell(r.contestant)} | ${formatValue(r.median, r.unit)} | ${formatSpan(r)} | ${formatPerRound(r)} | ${r.cpuUsPerMsg === undefined ? '' : r.cpuUsPerMsg.toFixed(2)} |`,
    ),
    '',
    '| ratio | wall | CPU | CPU best | target | result |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...run.ratios.map(
      (r) =>
        `| ${cell(r.label)} | ${formatRatio(r)} | ${r.cpuValue === undefined ? '' : r.cpuValue.toFixed(3)} | ${r.cpuBestValue === undefined ? '' : r.cpuBestValue.toFixed(3)} | ${cell(formatTarget(r.target))} | ${cell(formatVerdict(r))} |`,
    ),
  ].join('\n');
}

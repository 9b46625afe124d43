/**
 * Results of a run: medians, ratios and targets; printed as tables, written as JSON and as a small
 * SVG bar chart; and the comparison of two JSON files.
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
  readonly note?: string;
}

/** A ratio between two rows, possibly with the issue's target. */
export interface Ratio {
  readonly key: string;
  readonly label: string;
  readonly value: number;
  readonly target?: { readonly op: '>=' | '<'; readonly value: number; readonly unit?: string };
  readonly pass?: boolean;
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

/** Builds a row from its samples. */
export function makeRow(fields: Omit<Row, 'median' | 'min' | 'max'> & { samples: number[] }): Row {
  return {
    ...fields,
    median: median(fields.samples),
    min: Math.min(...fields.samples),
    max: Math.max(...fields.samples),
  };
}

/** A ratio of medians, checked against `target` when given. */
export function makeRatio(
  key: string,
  label: string,
  value: number,
  target?: Ratio['target'],
  note?: string,
): Ratio {
  let pass: boolean | undefined;
  if (target && Number.isFinite(value)) {
    pass = target.op === '>=' ? value >= target.value : value < target.value;
  }
  return { key, label, value, target, pass, note };
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
  return unit === 'MB' || unit === 'ms'
    ? `${value.toFixed(1)} ${unit}`
    : `${formatNumber(value)} ${unit}`;
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
      `${formatNumber(r.min)}..${formatNumber(r.max)}`,
      r.perRound === undefined ? '' : `${formatNumber(r.perRound)} × ${r.samples.length}`,
      r.drops === undefined ? '' : String(r.drops),
      r.cpuUsPerMsg === undefined ? '' : r.cpuUsPerMsg.toFixed(2),
    ]),
    [3, 4, 5, 6, 7],
  );
}

function formatRatio(r: Ratio): string {
  return r.target?.unit ? `${r.value.toFixed(1)} ${r.target.unit}` : `${r.value.toFixed(3)}`;
}

/** The ratios as a table, with their targets. */
export function ratiosTable(ratios: readonly Ratio[]): string {
  return table(
    ['ratio', 'value', 'target', 'result'],
    ratios.map((r) => [
      r.label,
      formatRatio(r),
      r.target ? `${r.target.op} ${r.target.value}${r.target.unit ? ` ${r.target.unit}` : ''}` : '',
      r.pass === undefined
        ? (r.note ?? '')
        : `${r.pass ? 'PASS' : 'MISS'}${r.note ? ` (${r.note})` : ''}`,
    ]),
    [1],
  );
}

const COLORS: Record<string, string> = {
  'raw MQTT.js': '#7f8c8d',
  'nestjs-mqtt': '#e0234e',
  'Nest transport': '#2c7be5',
};

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function escapeXml(raw: string): string {
  return raw.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A horizontal bar chart (log scale) of the median rates, one panel per unit. */
export function svgChart(run: RunResult): string {
  const rateRows = run.rows.filter((r) => r.unit.includes('/') && r.median > 0);
  const units = [...new Set(rateRows.map((r) => r.unit))];
  const labelWidth = 430;
  const barWidth = 420;
  const rowHeight = 16;
  let y = 40;
  const parts: string[] = [];
  for (const unit of units) {
    const rows = rateRows.filter((r) => r.unit === unit);
    const lo = Math.floor(Math.log10(Math.min(...rows.map((r) => r.median))));
    const hi = Math.ceil(Math.log10(Math.max(...rows.map((r) => r.median))));
    const span = Math.max(1, hi - lo);
    const x = (v: number): number => labelWidth + ((Math.log10(v) - lo) / span) * barWidth;
    parts.push(
      `<text x="8" y="${y}" font-weight="bold">${escapeXml(unit)} (median, log scale)</text>`,
    );
    y += 10;
    const top = y;
    for (let e = lo; e <= lo + span; e++) {
      const gx = x(10 ** e);
      parts.push(
        `<line x1="${gx}" y1="${top}" x2="${gx}" y2="${top + rows.length * rowHeight}" stroke="#ddd"/>`,
        `<text x="${gx}" y="${top + rows.length * rowHeight + 12}" text-anchor="middle" font-size="10">${formatNumber(10 ** e)}</text>`,
      );
    }
    for (const r of rows) {
      const color = COLORS[r.contestant] ?? '#8e44ad';
      const w = Math.max(1, x(r.median) - labelWidth);
      parts.push(
        `<text x="${labelWidth - 6}" y="${y + 12}" text-anchor="end" font-size="11">${escapeXml(`${r.scenario} · ${r.label} · ${r.contestant}`)}</text>`,
        `<rect x="${labelWidth}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowHeight - 4}" fill="${color}"/>`,
        `<text x="${labelWidth + w + 4}" y="${y + 12}" font-size="10">${formatNumber(r.median)}</text>`,
      );
      y += rowHeight;
    }
    y += 36;
  }
  const width = labelWidth + barWidth + 70;
  const title = `nestjs-mqtt benchmarks — ${text(run.meta.date)} — ${text(run.meta.brokerKind)}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="13">${escapeXml(title)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
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
        other.pass === undefined ? '' : other.pass ? 'PASS' : 'MISS',
      ];
    });
  return [
    `A: ${fileA} (${String(a.meta.date)})`,
    `B: ${fileB} (${String(b.meta.date)})`,
    '',
    table(['measurement', 'A', 'B', 'B vs A'], rowLines, [1, 2, 3]),
    '',
    table(['ratio', 'A', 'B', 'B result'], ratioLines, [1, 2]),
  ].join('\n');
}

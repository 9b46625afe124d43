/** A small SVG bar chart of a run's median rates (log scale), one panel per unit. */
import { formatNumber, type RunResult } from './report';

/** Bar colours by the start of the contestant's name. */
const COLORS: ReadonlyArray<[string, string]> = [
  ['raw MQTT.js', '#7f8c8d'],
  ['nestjs-mqtt', '#e0234e'],
  ['Nest transport', '#2c7be5'],
];

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
      const color = COLORS.find(([name]) => r.contestant.startsWith(name))?.[1] ?? '#8e44ad';
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

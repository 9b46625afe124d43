/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, or BENCH_PROFILE=1): the functions with the
 * most self time, and those with the most total time (self + callees).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One function's share of the profile. */
export interface HotSpot {
  readonly name: string;
  readonly location: string;
  readonly ms: number;
  readonly percent: number;
}

/** V8's pseudo-frames of a process waiting for work. */
const IDLE = new Set(['(idle)', '(program)']);
/**
 * Samples are taken every 200 µs; a much longer gap is time the process was frozen (SIGSTOP
 * between drains), charged by V8 to whatever ran last. Such samples are left out.
 */
const MAX_SAMPLE_GAP_US = 20_000;

function locate(frame: ProfileNode['callFrame']): string {
  const { url, lineNumber } = frame;
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  return `${path.startsWith('/') ? relative(process.cwd(), path) : path}:${lineNumber + 1}`;
}

/**
 * The `top` functions by self time and by total time. Percentages are of the busy time:
 * `(idle)` and `(program)` (waiting between measurements) and frozen time are left out;
 * `(garbage collector)` is kept.
 */
export function hotSpots(
  file: string,
  top = 20,
): { busyMs: number; self: HotSpot[]; total: HotSpot[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const key = (node: ProfileNode): string =>
    `${node.callFrame.functionName || '(anonymous)'}\t${locate(node.callFrame)}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const us = profile.timeDeltas[i] ?? 0;
    if (!node || IDLE.has(node.callFrame.functionName) || us > MAX_SAMPLE_GAP_US) continue;
    busy += us;
    const k = key(node);
    self.set(k, (self.get(k) ?? 0) + us);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (n.callFrame.functionName === '(root)') break;
      const nk = key(n);
      if (seen.has(nk)) continue;
      seen.add(nk);
      total.set(nk, (total.get(nk) ?? 0) + us);
    }
  }
  const list = (map: Map<string, number>): HotSpot[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => {
        const [name, location] = k.split('\t');
        return { name, location, ms: us / 1000, percent: busy > 0 ? (us * 100) / busy : 0 };
      });
  return { busyMs: busy / 1000, self: list(self), total: list(total) };
}

/** The hot spots as text lines. */
export function formatHotSpots(file: string, top = 20, filter?: RegExp): string {
  const { busyMs, self: allSelf, total: all } = hotSpots(file, filter ? 400 : top);
  const self = allSelf.slice(0, top);
  const total = filter
    ? all.filter((s) => filter.test(`${s.name} ${s.location}`)).slice(0, top)
    : all;
  const line = (s: HotSpot): string =>
    `${s.percent.toFixed(1).padStart(5)}%  ${s.ms.toFixed(0).padStart(6)} ms  ${s.name}  ${s.location}`;
  return [
    `${file} (${busyMs.toFixed(0)} ms busy; percentages of the busy time)`,
    'self time:',
    ...self.map(line),
    'total time (self + callees):',
    ...total.map(line),
  ].join('\n');
}

/**
 * The end of a run: the JSON and SVG files in the results directory, and the printed summary
 * (rows, notes, ratios with their targets, the issue author's numbers, CPU profile hot spots).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { BenchConfig } from './config';
import { formatHotSpots } from './profile';
import { ratiosTable, rowsTable, type RunResult } from './report';
import { svgChart } from './svg';

/** The numbers the author measured (2 cores, Mosquitto 2.0.11), for reference. */
export const PEERS = [
  'Issue author (2 cores, Mosquitto 2.0.11), draining 100k queued messages through one handler:',
  '  QoS 0: raw MQTT.js ~357k msg/s; Nest transport ~68k (0.19 of raw) with one pattern, ~1.9k with 1,000 other wildcard patterns',
  '  QoS 1: raw MQTT.js ~109k msg/s; Nest transport ~45k',
  '  100,000 device topics: module 0.74-0.78 of raw; validated DTO: module 0.88 of raw, 2.6x the Nest transport',
  '  request/reply (MQTT 5, sequential): QoS 0 p50 module 0.33 ms, raw 0.26 ms; QoS 1 both 44 ms (Nagle on)',
];

/** Writes `bench-<stamp>.json` / `.svg` and copies them to `latest.json` / `latest.svg`. */
export function writeResults(config: BenchConfig, result: RunResult, stamp: string): string[] {
  const jsonFile = join(config.resultsDir, `bench-${stamp}.json`);
  const svgFile = join(config.resultsDir, `bench-${stamp}.svg`);
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const svg = svgChart(result);
  writeFileSync(jsonFile, json);
  writeFileSync(svgFile, svg);
  writeFileSync(join(config.resultsDir, 'latest.json'), json);
  writeFileSync(join(config.resultsDir, 'latest.svg'), svg);
  return [jsonFile, svgFile];
}

/** Prints the summary of a run on stdout. */
export function printSummary(
  config: BenchConfig,
  result: RunResult,
  files: string[],
  profileDir: string | undefined,
): void {
  const meta = result.meta as {
    date: string;
    cpus: string;
    node: string;
    broker: string;
    loadavgStart: number[];
    loadavgEnd: number[];
    durationSec: number;
  };
  const lines = [
    '',
    `nestjs-mqtt benchmarks — ${meta.date} — ${meta.cpus}, node ${meta.node}`,
    `broker: ${meta.broker}`,
    `${config.quick ? 'QUICK run (BENCH_QUICK=1): small counts, numbers are indicative only. ' : ''}` +
      `receive scenarios ${config.processes} processes × ${config.processRounds} rounds per contestant, others ${config.rounds} rounds; medians; load average ${meta.loadavgStart.map((l) => l.toFixed(2)).join(' ')} → ${meta.loadavgEnd.map((l) => l.toFixed(2)).join(' ')}`,
    '',
    rowsTable(result.rows),
  ];
  const notes = result.rows.filter((r) => r.note).map((r) => `  ${r.key}: ${r.note!}`);
  if (notes.length) lines.push(`\nnotes:\n${notes.join('\n')}`);
  lines.push(
    '',
    ratiosTable(result.ratios),
    '',
    'wall: ratio of the medians of the rounds; CPU: the same by CPU time per message of the measured',
    "processes; CPU best: by each process's least CPU time per message (median over processes).",
    'The verdict uses wall unless the rounds of either side spread by more than 20%, then CPU best.',
    '',
    result.peers.join('\n'),
  );
  console.log(lines.join('\n'));
  if (profileDir) {
    for (const file of readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
      console.log(`\n${formatHotSpots(join(profileDir, file), 15)}`);
    }
  }
  console.log('');
  console.log(
    `results: ${files.map((f) => relative(process.cwd(), f)).join(', ')} (also latest.json, latest.svg)`,
  );
  console.log(`duration: ${meta.durationSec.toFixed(1)} s`);
}

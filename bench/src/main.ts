/**
 * `npm run bench`: every comparison of the issue, side by side, in one process tree, against one
 * broker. See bench/README.md for the method and how to read the output.
 *
 * Process tree: this orchestrator (idle while measuring) → the broker (own mosquitto, or aedes in
 * a child), the load-generating publisher, and one process per measured contestant. Each
 * scenario is a file of bench/src/scenarios/; the targets are the table of targets.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { startBroker } from './broker';
import { loadConfig, SCENARIOS } from './config';
import { BenchContext } from './context';
import { PEERS, printSummary, writeResults } from './output';
import { formatHotSpots } from './profile';
import { computeRatios } from './ratios';
import { compareRuns, markdownTables, type RunResult } from './report';
import { SCENARIO_RUNNERS } from './scenarios';
import { killAllChildren, WorkerProcess } from './worker-process';

const METHOD =
  'receive: the receiver is frozen (SIGSTOP) while a separate publisher process sends N messages that the broker queues, then resumed; rate = N / (time from the first bytes read after resuming to the handler call of the N-th message); CPU = CPU time of the receiver process over the same window / N. Medians of the rounds; contestants alternate (ABC, BCA, CAB...). latency: sequential MQTT 5 requests, time from the call to the reply; CPU = requester + responder CPU per exchange. matcher: lookups per CPU second.';

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
  let ctx: BenchContext | undefined;
  try {
    publisher = await WorkerProcess.start('publisher', 'publisher.ts', {
      env: {
        BENCH_URL: broker.url,
        BENCH_CLIENT_ID: `bench-${runId}-load`,
        BENCH_FENCE: `bench/${runId}/fence`,
      },
    });
    ctx = new BenchContext(config, broker, publisher, runId, stamp);
    ctx.log(
      `run ${runId}: ${config.quick ? 'QUICK, ' : ''}scale ${config.scale}, ${config.rounds} rounds (receive scenarios ${config.processes} processes × ${config.processRounds}), ` +
        `scenarios ${[...config.scenarios].join(', ')}`,
    );
    for (const name of SCENARIOS) {
      if (config.scenarios.has(name)) await SCENARIO_RUNNERS[name](ctx);
    }
  } finally {
    await publisher?.stop();
    await broker.stop();
  }

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
      method: METHOD,
      config: { ...config, scenarios: [...config.scenarios] },
      ...ctx.meta,
    },
    rows: ctx.rows,
    ratios: computeRatios(ctx.rows, config),
    peers: PEERS,
  };
  const files = writeResults(config, result, stamp);
  printSummary(config, result, files, ctx.profiles);
}

function usage(): string {
  return [
    'usage: npm run bench                      run the benchmarks (see bench/README.md)',
    '       npm run bench -- --compare A.json B.json   compare two result files',
    '       npm run bench -- --profile FILE.cpuprofile [--only REGEXP]  hot spots of a CPU profile',
    '       npm run bench -- --markdown FILE.json      rows and ratios of a result file as Markdown',
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
  if (argv[0] === '--markdown') {
    if (argv.length !== 2) throw new Error(usage());
    console.log(markdownTables(argv[1]));
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

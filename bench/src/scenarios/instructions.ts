/**
 * instructions: the receive path of raw MQTT.js and of the module counted in machine
 * instructions per message, under valgrind's callgrind (bench/workers/instructions.ts), fed by
 * an in-process fake broker. Timing on a shared 2-core machine swings by 50-100% from round to
 * round; instruction counts do not, so these ratios are the steady reading of the same
 * comparisons as `devices` and `dto` (what they leave out: cache misses, waits, GC threads'
 * timing). Every contestant runs with the same V8 flags, NODE_FLAGS: without them, when V8
 * compiles and collects on its helper threads changes what the JIT does, and one process counted
 * up to ~4% more than another on the same code. With them, a loop without I/O counts the same
 * within a few instructions; here the socket reads still come in chunks of varying size, and
 * two counts of one contestant differ by up to ~2%.
 * Skipped, with a line saying so, when valgrind is not installed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchContext } from '../context';
import { formatNumber, makeRow } from '../report';

const WORKER = resolve(__dirname, '../../workers/instructions.ts');
const REGISTER_TS = resolve(__dirname, '../../../test/support/register-ts.js');

const CASES = [
  { group: 'device-o0', shape: 'device', others: 0, label: 'device topics, @TopicParam' },
  {
    group: 'device-o10000',
    shape: 'device',
    others: 10000,
    label: 'device topics, @TopicParam, 10,000 other subs',
  },
  { group: 'dto-o0', shape: 'dto', others: 0, label: 'validated class DTO' },
] as const;

/** Counts per contestant and case; the lower is kept. */
const RUNS = 2;

/**
 * No compiler or GC helper threads, deterministic choices: only the socket reads still vary a
 * count.
 */
const NODE_FLAGS = ['--single-threaded', '--predictable'];

const CONTESTANTS = [
  { id: 'raw', name: 'raw MQTT.js' },
  { id: 'module', name: 'nestjs-mqtt' },
] as const;

export async function instructions(ctx: BenchContext): Promise<void> {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    ctx.log('instructions: skipped (valgrind is not installed: apt-get install valgrind)');
    return;
  }
  const perFeed = ctx.config.quick ? 5000 : 20000;
  const dir = mkdtempSync(join(tmpdir(), 'bench-callgrind-'));
  try {
    for (const c of CASES) {
      ctx.log(`instructions: ${c.label}, ${formatNumber(perFeed * 2)} messages counted`);
      // Each contestant RUNS times, raw and module side by side (counts do not depend on load).
      const counts = new Map<string, number[]>(CONTESTANTS.map((x) => [x.id, []]));
      for (let run = 0; run < RUNS; run++) {
        const pair = await Promise.all(
          CONTESTANTS.map((x) => count(dir, x.id, c.shape, c.others, perFeed, run)),
        );
        CONTESTANTS.forEach((x, i) => counts.get(x.id)?.push(pair[i]));
      }
      for (const contestant of CONTESTANTS) {
        const samples = counts.get(contestant.id) ?? [];
        const shown = samples.map((n) => formatNumber(n)).join(', ');
        ctx.log(`  ${contestant.id.padEnd(6)} ${shown} instructions/msg`);
        ctx.rows.push(
          makeRow({
            key: `instructions/${c.group}/${contestant.id}`,
            scenario: 'instructions',
            label: c.label,
            contestant: contestant.name,
            unit: 'instr/msg',
            higherIsBetter: false,
            samples: [Math.min(...samples)],
            perRound: perFeed * 2,
          }),
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one contestant under callgrind; instructions per message of the measured feeds. */
function count(
  dir: string,
  kind: string,
  shape: string,
  others: number,
  perFeed: number,
  run: number,
): Promise<number> {
  const out = join(dir, `${kind}-${shape}-${others}-${run}.out`);
  const args = [
    '--tool=callgrind',
    '--instr-atstart=no',
    `--callgrind-out-file=${out}`,
    process.execPath,
    ...NODE_FLAGS,
    '-r',
    REGISTER_TS,
    WORKER,
    kind,
    shape,
    String(others),
    String(perFeed),
  ];
  return new Promise((resolvePerMsg, reject) => {
    const child = spawn('valgrind', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      const collected = /Collected : (\d+)/.exec(stderr);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !collected || !line.startsWith('{')) {
        reject(
          new Error(`callgrind run ${kind} ${shape} failed (exit ${code}): ${stderr.slice(-500)}`),
        );
        return;
      }
      const { messages, bad } = JSON.parse(line) as { messages: number; bad: number };
      if (bad > 0) reject(new Error(`${kind} ${shape}: ${bad} handler calls got a wrong value`));
      else resolvePerMsg(Number(collected[1]) / messages);
    });
  });
}

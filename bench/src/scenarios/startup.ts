/**
 * startup: `NestFactory.createApplicationContext()` + `init()` of an app with one `@Subscribe`
 * handler against one with startupHandlers, each in a fresh process; spawn-to-ready for context.
 */
import { performance } from 'node:perf_hooks';
import { rotate, type BenchContext } from '../context';
import { makeRow } from '../report';
import { WorkerProcess } from '../worker-process';

export async function startup(ctx: BenchContext): Promise<void> {
  const sizes = [1, ctx.config.startupHandlers];
  const samples = new Map<number, number[]>(sizes.map((s) => [s, []]));
  const processSamples = new Map<number, number[]>(sizes.map((s) => [s, []]));
  ctx.log(`startup: 1 vs ${ctx.config.startupHandlers} handlers`);
  // Three rounds: each is two fresh processes (a few seconds), and the spread is small.
  for (let round = 0; round < Math.min(3, ctx.config.rounds); round++) {
    for (const handlers of rotate(sizes, round)) {
      const t0 = performance.now();
      const worker = await WorkerProcess.start(`bootstrap ${handlers}`, 'bootstrap.ts', {
        env: {
          BENCH_HANDLERS: handlers,
          BENCH_URL: ctx.broker.url,
          BENCH_CLIENT_ID: `bench-${ctx.runId}-boot-${handlers}-${round}`,
          BENCH_PREFIX: `bench/${ctx.runId}/boot${handlers}`,
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
      ctx.log(
        `  round ${round + 1}: ${handlers} handlers: bootstrap ${ms.toFixed(0)} ms (process start to ready ${wall.toFixed(0)} ms)`,
      );
    }
  }
  for (const handlers of sizes) {
    const label = `${handlers.toLocaleString('en-US')} @Subscribe handler${handlers === 1 ? '' : 's'}`;
    const row = (kind: string, contestant: string, values: number[]) =>
      makeRow({
        key: `startup/${handlers}/${kind}`,
        scenario: 'startup',
        label,
        contestant,
        unit: 'ms',
        higherIsBetter: false,
        samples: values,
      });
    ctx.rows.push(
      row('bootstrap', 'nestjs-mqtt: create + init', samples.get(handlers)!),
      row('process', 'process start to ready', processSamples.get(handlers)!),
    );
  }
}

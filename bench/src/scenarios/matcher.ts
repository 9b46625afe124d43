/**
 * matcher: `TopicTree.match()` lookups per CPU second at 10 and 10,000 filters, and a linear
 * scan calling `topicMatches()` on every filter for reference (bench/workers/matcher.ts).
 */
import { rotate, type BenchContext } from '../context';
import { formatNumber, makeRow } from '../report';
import { WorkerProcess } from '../worker-process';

interface LookupResult {
  rate: number;
  wallRate: number;
  matchedPerLookup: number;
}

export async function matcher(ctx: BenchContext): Promise<void> {
  const sizes = ctx.config.matcherSizes;
  ctx.log(`matcher: ${sizes.join(' vs ')} filters`);
  const worker = await WorkerProcess.start('matcher', 'matcher.ts', {
    env: { BENCH_SIZES: sizes.join(','), ...ctx.profileEnv('matcher') },
  });
  try {
    const combos = (['tree', 'linear'] as const).flatMap((impl) =>
      sizes.map((size) => ({ impl, size })),
    );
    const samples = new Map<string, number[]>(combos.map((c) => [`${c.impl}/${c.size}`, []]));
    for (const c of combos) {
      await worker.request('lookup', { ...c, ms: ctx.config.matcherMs / 2 });
    }
    for (let round = 0; round < ctx.config.rounds; round++) {
      for (const c of rotate(combos, round)) {
        const result = await worker.request<LookupResult>('lookup', {
          ...c,
          ms: ctx.config.matcherMs,
        });
        samples.get(`${c.impl}/${c.size}`)!.push(result.rate);
        ctx.log(
          `  round ${round + 1} ${c.impl} ${c.size}: ${formatNumber(result.rate)} lookups per CPU second (wall clock: ${formatNumber(result.wallRate)}/s; ${result.matchedPerLookup.toFixed(2)} matches per lookup)`,
        );
      }
    }
    for (const c of combos) {
      const key = `${c.impl}/${c.size}`;
      ctx.rows.push(
        makeRow({
          key: `matcher/${key}`,
          scenario: 'matcher',
          label: `${c.size.toLocaleString('en-US')} filters`,
          contestant: c.impl === 'tree' ? 'TopicTree.match' : 'linear topicMatches (reference)',
          unit: 'lookups/CPU s',
          higherIsBetter: true,
          samples: samples.get(key)!,
        }),
      );
    }
  } finally {
    await worker.stop();
  }
}

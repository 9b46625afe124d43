/**
 * memory: RSS and heap after a warm-up against after memoryN more messages (drained in batches),
 * two full GCs before each sample; the module, and raw MQTT.js for reference.
 */
import type { BenchContext } from '../context';
import { RECEIVERS } from '../receive-group';
import { formatNumber, makeRow, median } from '../report';
import { measuredTopic, type MemorySample } from '../shared';

const MB = 1024 * 1024;

export async function memory(ctx: BenchContext): Promise<void> {
  const { memoryN: total, memoryBatch, memoryWarmupN } = ctx.config;
  const samples: Record<string, { before: MemorySample; after: MemorySample }> = {};
  for (const kind of ['module', 'raw'] as const) {
    const name = RECEIVERS.find((r) => r.id === kind)!.name;
    const group = 'mem';
    ctx.log(`memory: ${kind}, ${formatNumber(total)} messages`);
    const worker = await ctx.startReceiver(kind, group, { qos: 0, execArgv: ['--expose-gc'] });
    const prefix = ctx.prefix(group, kind);
    try {
      let drops = 0;
      for (let warm = 0; warm < memoryWarmupN;) {
        const n = Math.min(memoryBatch, memoryWarmupN - warm);
        const d = await ctx.drain(worker, measuredTopic(prefix, `w${warm}`), n, 0);
        warm += n;
        drops += d.expected - d.received;
      }
      const before = await worker.request<MemorySample>('mem');
      let peakRss = before.rss;
      const rates: number[] = [];
      for (let done = 0; done < total;) {
        const n = Math.min(memoryBatch, total - done);
        const d = await ctx.drain(worker, measuredTopic(prefix, `m${done}`), n, 0);
        done += n;
        drops += d.expected - d.received;
        rates.push(d.rate);
        peakRss = Math.max(peakRss, await worker.request<number>('rss'));
      }
      const after = await worker.request<MemorySample>('mem');
      const label = `after ${formatNumber(total)} msgs vs warm-up`;
      const add = (metric: string, value: number): void => {
        ctx.rows.push(
          makeRow({
            key: `memory/${kind}/${metric}`,
            scenario: 'memory',
            label: `${metric}, ${label}`,
            contestant: name,
            unit: 'MB',
            higherIsBetter: false,
            samples: [value],
            perRound: total,
            drops,
            note: drops ? `${drops} messages missing` : undefined,
          }),
        );
      };
      add('RSS growth', (after.rss - before.rss) / MB);
      add('heap growth', (after.heapUsed - before.heapUsed) / MB);
      add('peak RSS growth (no GC)', (peakRss - before.rss) / MB);
      ctx.log(
        `  ${kind}: RSS ${(before.rss / MB).toFixed(1)} → ${(after.rss / MB).toFixed(1)} MB (peak ${(peakRss / MB).toFixed(1)}), heap ${(before.heapUsed / MB).toFixed(1)} → ${(after.heapUsed / MB).toFixed(1)} MB` +
          ` (gc: ${String(after.gc)}; median ${formatNumber(median(rates))} msg/s${drops ? `; ${drops} MISSING` : ''})`,
      );
      samples[kind] = { before, after };
    } finally {
      await worker.stop();
    }
  }
  ctx.meta.memory = samples;
}

/**
 * publish: `MqttService.publish(topic, buffer, { qos })` against MQTT.js
 * `client.publishAsync(topic, buffer, { qos })`, each in its own process, QoS 0 and 1.
 */
import { rotate, type BenchContext } from '../context';
import { formatNumber, makeRow, median } from '../report';
import type { PublishResult } from '../shared';
import { WorkerProcess } from '../worker-process';

const KINDS = [
  { id: 'raw', name: 'raw MQTT.js' },
  { id: 'module', name: 'nestjs-mqtt' },
] as const;

export async function publish(ctx: BenchContext): Promise<void> {
  ctx.log('publish: starting publishers');
  const workers = await Promise.all(
    KINDS.map((k) =>
      WorkerProcess.start(`${k.id} publisher`, 'pub-bench.ts', {
        env: {
          BENCH_KIND: k.id,
          BENCH_URL: ctx.broker.url,
          BENCH_CLIENT_ID: `bench-${ctx.runId}-pub-${k.id}`,
          ...ctx.profileEnv(`publish-${k.id}`),
        },
      }),
    ),
  );
  try {
    for (const qos of [0, 1] as const) {
      // QoS 1 runs at a third of QoS 0's rate or less: a quarter of the messages keeps it short.
      const n = qos === 0 ? ctx.config.publishN : Math.max(100, ctx.config.publishN >> 2);
      const topic = (kind: string, round: string): string =>
        `bench/${ctx.runId}/pub/${kind}/q${qos}/${round}`;
      for (const [i, k] of KINDS.entries()) {
        await workers[i].request('run', {
          topic: topic(k.id, 'warm'),
          n: Math.max(100, n >> 2),
          qos,
        });
      }
      const samples = KINDS.map(() => [] as PublishResult[]);
      for (let round = 0; round < ctx.config.rounds; round++) {
        for (const i of rotate([0, 1], round)) {
          const result = await workers[i].request<PublishResult>('run', {
            topic: topic(KINDS[i].id, `r${round}`),
            n,
            qos,
          });
          samples[i].push(result);
          ctx.log(
            `  publish QoS ${qos} round ${round + 1} ${KINDS[i].id.padEnd(6)} ${formatNumber(result.rate).padStart(6)} msg/s` +
              ` (${result.cpuUsPerMsg.toFixed(2)} µs CPU/msg${result.failed ? `, ${result.failed} FAILED` : ''})`,
          );
        }
      }
      KINDS.forEach((k, i) => {
        const failed = samples[i].reduce((sum, r) => sum + r.failed, 0);
        ctx.rows.push(
          makeRow({
            key: `publish/q${qos}/${k.id}`,
            scenario: 'publish',
            label: `QoS ${qos}`,
            contestant: k.name,
            unit: 'msg/s',
            higherIsBetter: true,
            samples: samples[i].map((r) => r.rate),
            perRound: n,
            drops: failed,
            cpuUsPerMsg: median(samples[i].map((r) => r.cpuUsPerMsg)),
            cpuBestUsPerMsg: Math.min(...samples[i].map((r) => r.cpuUsPerMsg)),
            note: failed ? `${failed} publishes failed` : undefined,
          }),
        );
      });
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

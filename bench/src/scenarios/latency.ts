/**
 * latency: request/reply over MQTT 5, sequential requests, p50/p99 from the call to the reply.
 * `MqttService.request()` (module requester, module responder returning a value) against the
 * same exchange on raw MQTT.js (response topic + correlation data) and against the Nest
 * transport's `ClientProxy.send()` / `@MessagePattern`, at QoS 0 and QoS 1. Each runs on a
 * mosquitto of its own with `set_tcp_nodelay true`, and again with it off (mosquitto's default:
 * Nagle's algorithm holds the reply back until the PUBACK is acknowledged). A contestant gets
 * latencyN requests per round, or as many as fit in latencySec (Nagle: ~44 ms each).
 */
import { startExtraMosquitto, type BenchBroker } from '../broker';
import { rotate, type BenchContext, type ReceiverKind } from '../context';
import { RECEIVERS } from '../receive-group';
import { formatNumber, makeRow, median, percentile } from '../report';
import type { LatencyRunResult } from '../shared';
import { WorkerProcess } from '../worker-process';

/** A broker setting the exchange runs under. */
interface Setting {
  readonly id: 'nodelay' | 'nagle';
  readonly label: string;
  readonly config: string;
}

const SETTINGS: readonly Setting[] = [
  { id: 'nodelay', label: 'set_tcp_nodelay true', config: 'set_tcp_nodelay true' },
  { id: 'nagle', label: 'set_tcp_nodelay false (default)', config: 'set_tcp_nodelay false' },
];

interface Pair {
  readonly kind: ReceiverKind;
  readonly requester: WorkerProcess;
  readonly responder: WorkerProcess;
}

async function startPairs(
  ctx: BenchContext,
  broker: BenchBroker,
  setting: Setting,
): Promise<Pair[]> {
  const started: WorkerProcess[] = [];
  try {
    return await Promise.all(
      RECEIVERS.map(async ({ id: kind }) => {
        const group = `lat-${setting.id}`;
        const env = {
          BENCH_KIND: kind,
          BENCH_URL: broker.url,
          BENCH_TOPIC: `${ctx.prefix(group, kind)}/req`,
        };
        const responder = await WorkerProcess.start(
          `${kind} responder (${group})`,
          'responder.ts',
          {
            env: {
              ...env,
              BENCH_CLIENT_ID: `bench-${ctx.runId}-${group}-${kind}-res`,
              ...ctx.profileEnv(`${group}-${kind}-responder`),
            },
          },
        );
        started.push(responder);
        const requester = await WorkerProcess.start(
          `${kind} requester (${group})`,
          'requester.ts',
          {
            env: {
              ...env,
              BENCH_CLIENT_ID: `bench-${ctx.runId}-${group}-${kind}-req`,
              ...ctx.profileEnv(`${group}-${kind}-requester`),
            },
          },
        );
        started.push(requester);
        return { kind, requester, responder };
      }),
    );
  } catch (error) {
    await Promise.all(started.map((w) => w.stop()));
    throw error;
  }
}

/** One round of one contestant: n sequential requests, and the CPU both sides used. */
async function measure(
  pair: Pair,
  n: number,
  qos: 0 | 1,
): Promise<LatencyRunResult & { cpuUsPerExchange: number; responderCpuUs: number }> {
  const before = await pair.responder.request<number>('cpu');
  const result = await pair.requester.request<LatencyRunResult>('run', { n, qos }, 600_000);
  const after = await pair.responder.request<number>('cpu');
  const exchanges = Math.max(1, result.latenciesMs.length);
  return {
    ...result,
    cpuUsPerExchange: (result.cpuUs + after - before) / exchanges,
    responderCpuUs: (after - before) / exchanges,
  };
}

/**
 * Requests per round: latencyN, or as many as fit in latencySec at the warm-up's median pace
 * (the first request of a warm-up may subscribe a reply topic: the median ignores it).
 */
function sizeRounds(ctx: BenchContext, warm: LatencyRunResult): number {
  const { latencyN, latencyMinN, latencySec } = ctx.config;
  const typicalMs = percentile(warm.latenciesMs, 50);
  const fit = typicalMs > 0 ? Math.floor((latencySec * 1000) / typicalMs) : latencyN;
  return Math.min(latencyN, Math.max(latencyMinN, fit));
}

async function runSetting(ctx: BenchContext, broker: BenchBroker, setting: Setting): Promise<void> {
  const rounds = setting.id === 'nodelay' ? ctx.config.rounds : Math.min(3, ctx.config.rounds);
  ctx.log(`latency, ${setting.label}: starting requesters and responders`);
  const pairs = await startPairs(ctx, broker, setting);
  try {
    for (const qos of [0, 1] as const) {
      // Warm-up, not recorded: a few requests size the rounds, then one round's worth lets the
      // JIT settle (CPU per exchange falls severalfold over the first thousand requests).
      const perRound = new Map<ReceiverKind, number>();
      for (const pair of pairs) {
        const n = sizeRounds(ctx, await measure(pair, ctx.config.latencyMinN, qos));
        await measure(pair, n, qos);
        perRound.set(pair.kind, n);
      }
      const results = new Map<ReceiverKind, Awaited<ReturnType<typeof measure>>[]>(
        pairs.map((p) => [p.kind, []]),
      );
      for (let round = 0; round < rounds; round++) {
        for (const pair of rotate(pairs, round)) {
          const n = perRound.get(pair.kind)!;
          const r = await measure(pair, n, qos);
          results.get(pair.kind)!.push(r);
          ctx.log(
            `  QoS ${qos} round ${round + 1} ${pair.kind.padEnd(6)} p50 ${percentile(r.latenciesMs, 50).toFixed(3)} ms, p99 ${percentile(r.latenciesMs, 99).toFixed(3)} ms` +
              ` (${n} requests, ${r.cpuUsPerExchange.toFixed(0)} µs CPU/exchange, responder ${r.responderCpuUs.toFixed(0)}${r.failed ? `, ${r.failed} FAILED` : ''})`,
          );
        }
      }
      for (const { id, name } of RECEIVERS) {
        const runs = results.get(id)!;
        const failed = runs.reduce((sum, r) => sum + r.failed, 0);
        for (const p of [50, 99]) {
          ctx.rows.push(
            makeRow({
              key: `latency/${setting.id}/q${qos}/${id}/p${p}`,
              scenario: 'latency',
              label: `QoS ${qos}, ${setting.label}, p${p}`,
              contestant: name,
              unit: 'ms',
              higherIsBetter: false,
              samples: runs.map((r) => percentile(r.latenciesMs, p)),
              perRound: perRound.get(id),
              drops: failed,
              cpuUsPerMsg: median(runs.map((r) => r.cpuUsPerExchange)),
              cpuBestUsPerMsg: Math.min(...runs.map((r) => r.cpuUsPerExchange)),
              note: failed ? `${failed} requests failed` : undefined,
            }),
          );
        }
      }
      ctx.log(
        `  QoS ${qos}: median p50 ${RECEIVERS.map(({ id }) => `${id} ${formatNumber(median(results.get(id)!.map((r) => percentile(r.latenciesMs, 50))))} ms`).join(', ')}`,
      );
    }
  } finally {
    await Promise.all(pairs.flatMap((p) => [p.requester.stop(), p.responder.stop()]));
  }
}

export async function latency(ctx: BenchContext): Promise<void> {
  const brokers: Record<string, string> = {};
  for (const setting of SETTINGS) {
    const broker = await startExtraMosquitto([setting.config]);
    if (!broker) {
      ctx.log(`latency: no mosquitto binary, so no ${setting.label} broker: skipped`);
      continue;
    }
    brokers[setting.id] = broker.description;
    try {
      await runSetting(ctx, broker, setting);
    } finally {
      await broker.stop();
    }
  }
  ctx.meta.latencyBrokers = brokers;
}

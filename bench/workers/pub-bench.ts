/**
 * The measured publisher: BENCH_KIND `raw` publishes with MQTT.js `client.publishAsync`, `module`
 * with `MqttService.publish` of a Nest app using `nestjs-mqtt`. `run {topic, n, qos}` publishes n
 * messages keeping at most WINDOW unresolved, and reports the rate from the first call to the last
 * resolution (QoS 0: written to the socket; QoS 1: PUBACK received). Nobody subscribes to the
 * topic, so the broker discards the messages.
 */
import { performance } from 'node:perf_hooks';
import { connectAsync } from 'mqtt';
import { PAYLOAD, type PublishResult } from '../src/shared';
import { moduleAppModule, startModuleApp } from './module-app';
import { env, profiler, ready, run, serve } from './ipc';

/** Publishes awaiting their resolution at once. */
const WINDOW = 1000;

type PublishFn = (topic: string, payload: Buffer, qos: 0 | 1) => Promise<unknown>;

/** Publishes `n` messages through `publish`, at most WINDOW unresolved at a time. */
function pump(n: number, publish: () => Promise<unknown>): Promise<number> {
  return new Promise((resolve) => {
    let started = 0;
    let settled = 0;
    let failed = 0;
    const next = (): void => {
      while (started < n && started - settled < WINDOW) {
        started++;
        publish().then(onSettled, onFailed);
      }
    };
    const onSettled = (): void => {
      settled++;
      if (settled === n) resolve(failed);
      else next();
    };
    const onFailed = (): void => {
      failed++;
      onSettled();
    };
    if (n === 0) resolve(0);
    else next();
  });
}

run(async () => {
  const kind = env('BENCH_KIND');
  const url = env('BENCH_URL');
  const clientId = env('BENCH_CLIENT_ID');
  let publish: PublishFn;
  let close: () => Promise<void>;
  if (kind === 'raw') {
    const client = await connectAsync(url, { clientId, reconnectPeriod: 0 });
    publish = (topic, payload, qos) => client.publishAsync(topic, payload, { qos });
    close = () => client.endAsync();
  } else if (kind === 'module') {
    const app = await startModuleApp(moduleAppModule({ url, clientId }));
    const service = app.service;
    publish = (topic, payload, qos) => service.publish(topic, payload, { qos });
    close = app.close;
  } else {
    throw new Error(`unknown BENCH_KIND ${kind}`);
  }

  serve(
    {
      run: async (req): Promise<PublishResult> => {
        profiler.start();
        const topic = String(req.topic);
        const n = Number(req.n);
        const qos = Number(req.qos) as 0 | 1;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const failed = await pump(n, () => publish(topic, PAYLOAD, qos));
        const elapsedMs = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        return {
          count: n,
          failed,
          elapsedMs,
          rate: (n * 1000) / elapsedMs,
          cpuUsPerMsg: (cpu.user + cpu.system) / n,
        };
      },
    },
    () => close(),
  );
  ready({ kind });
});

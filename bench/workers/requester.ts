/**
 * The asking side of the request/reply latency scenario (MQTT 5): sequential requests to
 * BENCH_TOPIC, each timed from the call to its reply. BENCH_KIND picks it:
 * - `raw`: MQTT.js, the exchange `MqttService.request()` makes, wired by hand: a private reply
 *   topic subscribed at QoS 1, 12 random bytes of correlation data, a map of pending requests;
 * - `module`: `MqttService.request()` of a `nestjs-mqtt` app;
 * - `nest`: `ClientMqtt.send()` of `@nestjs/microservices` (request at the given QoS through an
 *   `MqttRecord`).
 * Requests: `run {n, qos}` resolves with a LatencyRunResult.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ClientMqtt, MqttRecordBuilder } from '@nestjs/microservices';
import { connectAsync } from 'mqtt';
import { firstValueFrom } from 'rxjs';
import { PAYLOAD, type LatencyRunResult } from '../src/shared';
import { noDelay } from './apps';
import { env, profiler, ready, run, serve } from './ipc';
import { moduleAppModule, startModuleApp } from './module-app';

/** Milliseconds a request may take before it counts as failed. */
const TIMEOUT_MS = 10_000;

type RequestFn = (qos: 0 | 1) => Promise<unknown>;

async function startRaw(
  url: string,
  clientId: string,
  topic: string,
): Promise<{ request: RequestFn; close: () => Promise<void> }> {
  const client = await connectAsync(url, { clientId, protocolVersion: 5, reconnectPeriod: 0 });
  noDelay(client);
  const replyTopic = `${topic}/replies/${randomBytes(12).toString('hex')}`;
  const pending = new Map<string, () => void>();
  client.on('message', (received, _payload, packet) => {
    const correlation = packet.properties?.correlationData;
    if (received !== replyTopic || !correlation) return;
    const key = Buffer.from(correlation).toString('hex');
    const resolve = pending.get(key);
    if (!resolve) return;
    pending.delete(key);
    resolve();
  });
  await client.subscribeAsync(replyTopic, { qos: 1 });
  const request: RequestFn = (qos) => {
    const correlation = randomBytes(12);
    const key = correlation.toString('hex');
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(key);
        reject(new Error(`no reply within ${TIMEOUT_MS} ms`));
      }, TIMEOUT_MS);
      pending.set(key, () => {
        clearTimeout(timer);
        resolve();
      });
      client.publish(topic, PAYLOAD, {
        qos,
        properties: { responseTopic: replyTopic, correlationData: correlation },
      });
    });
  };
  return { request, close: () => client.endAsync() };
}

async function startModule(
  url: string,
  clientId: string,
  topic: string,
): Promise<{ request: RequestFn; close: () => Promise<void> }> {
  const app = await startModuleApp(
    moduleAppModule({ url, clientId, keys: { MQTT_PROTOCOL_VERSION: 5 } }),
  );
  const { service } = app;
  return {
    request: (qos) => service.request(topic, PAYLOAD, { qos, timeout: TIMEOUT_MS }),
    close: app.close,
  };
}

async function startNest(
  url: string,
  clientId: string,
  topic: string,
): Promise<{ request: RequestFn; close: () => Promise<void> }> {
  const client = new ClientMqtt({ url, clientId, protocolVersion: 5 });
  await client.connect();
  const data = JSON.parse(PAYLOAD.toString('utf8')) as object;
  return {
    request: (qos) =>
      firstValueFrom(client.send(topic, new MqttRecordBuilder(data).setQoS(qos).build())),
    close: () => client.close(),
  };
}

run(async () => {
  const kind = env('BENCH_KIND');
  const starters = { raw: startRaw, module: startModule, nest: startNest };
  const start = starters[kind as keyof typeof starters];
  if (!start) throw new Error(`unknown BENCH_KIND ${kind}`);
  const { request, close } = await start(
    env('BENCH_URL'),
    env('BENCH_CLIENT_ID'),
    env('BENCH_TOPIC'),
  );
  serve(
    {
      run: async (req): Promise<LatencyRunResult> => {
        profiler.start();
        const n = Number(req.n);
        const qos = Number(req.qos) as 0 | 1;
        const latenciesMs: number[] = [];
        let failed = 0;
        const cpu0 = process.cpuUsage();
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          try {
            await request(qos);
            latenciesMs.push(performance.now() - t0);
          } catch {
            failed++;
          }
        }
        const cpu = process.cpuUsage(cpu0);
        return { latenciesMs, failed, cpuUs: cpu.user + cpu.system };
      },
    },
    close,
  );
  ready({ kind });
});

/**
 * The measured receiver: one process per contestant. BENCH_KIND picks it:
 * - `raw`: an MQTT.js client, `client.on('message', ...)`, the handler's work wired by hand;
 * - `module`: a Nest app with `nestjs-mqtt`, one `@Subscribe` handler;
 * - `nest`: a Nest microservice on `@nestjs/microservices`' MQTT transport, one `@EventPattern`.
 * Each subscribes BENCH_FILTER at BENCH_QOS, plus BENCH_OTHERS other wildcard filters
 * (shared.otherFilters) that never match it. BENCH_SHAPE (shared.HandlerShape) is what every
 * contestant's handler does with a message; each ends in one call of the DrainCounter.
 *
 * Requests: `arm {n}` resets the counter for n messages (the clock starts at the next bytes
 * read); `go {idleMs}` resolves with the DrainResult once n messages arrived, or after idleMs
 * without a message; `mem` samples memory after full GCs (with --expose-gc) and reports stray
 * and bad handler calls; `rss` the resident memory now.
 */
import { performance } from 'node:perf_hooks';
import { connectAsync, type MqttClient } from 'mqtt';
import type { MqttQos } from 'nestjs-mqtt';
import { otherFilters, type HandlerShape } from '../src/shared';
import { strayCounter } from './apps';
import { DrainCounter } from './drain-counter';
import { env, memorySample, profiler, ready, run, serve } from './ipc';
import { moduleAppModule, startModuleApp } from './module-app';
import { startNestTransportApp } from './nest-app';
import { validateRawConfig } from './raw-config.dto';
import { rawHandler, type RawHandler } from './raw-handler';

async function startRaw(
  url: string,
  clientId: string,
  filter: string,
  qos: MqttQos,
  others: string[],
  onMessage: RawHandler,
): Promise<{ close: () => Promise<void>; client: MqttClient }> {
  const client: MqttClient = await connectAsync(url, { clientId, reconnectPeriod: 0 });
  client.on('message', onMessage);
  // The other filters in SUBSCRIBE packets of 1,000 (one packet of 10,000 works too).
  for (let i = 0; i < others.length; i += 1000) {
    const batch = others.slice(i, i + 1000);
    await client.subscribeAsync(Object.fromEntries(batch.map((f) => [f, { qos: 0 as const }])));
  }
  await client.subscribeAsync(filter, { qos });
  return { close: () => client.endAsync(), client };
}

run(async () => {
  const kind = env('BENCH_KIND');
  const url = env('BENCH_URL');
  const filter = env('BENCH_FILTER');
  const qos = Number(env('BENCH_QOS')) as MqttQos;
  const shape = (process.env.BENCH_SHAPE ?? 'count') as HandlerShape;
  const others = otherFilters(Number(process.env.BENCH_OTHERS ?? 0));
  const clientId = env('BENCH_CLIENT_ID');
  const counter = new DrainCounter();
  const measured = { filter, qos, shape, sink: counter };

  const t0 = performance.now();
  let close: () => Promise<void>;
  let client: MqttClient;
  const info: Record<string, unknown> = { kind, filter, qos, shape, others: others.length };
  if (kind !== 'module') {
    // As an app on @nestjs/config validates its environment at startup (the module validates
    // its MQTT_* keys the same way): every contestant's class-validator has then seen a
    // configuration class besides the measured DTO.
    validateRawConfig({ MQTT_BROKER_URL: url, MQTT_BROKER_PORT: '1883', MQTT_CLIENT_ID: clientId });
  }
  if (kind === 'raw') {
    ({ close, client } = await startRaw(
      url,
      clientId,
      filter,
      qos,
      others,
      rawHandler(shape, filter, counter),
    ));
  } else if (kind === 'module') {
    const app = await startModuleApp(moduleAppModule({ url, clientId, measured, others }));
    info.brokerFilters = app.service.topics.length;
    close = app.close;
    client = app.service.client;
  } else if (kind === 'nest') {
    const app = await startNestTransportApp({
      url,
      clientId,
      measured,
      others,
      // `devprobe` is a valid device id for the `device` shape.
      probe: { topic: filter.replace('/+/', '/devprobe/'), received: () => counter.received },
    });
    info.patterns = app.patterns.length;
    info.measuredPatternIndex = app.patterns.indexOf(filter);
    close = app.close;
    client = app.client;
  } else {
    throw new Error(`unknown BENCH_KIND ${kind}`);
  }
  info.setupMs = Math.round(performance.now() - t0);

  serve(
    {
      arm: (req) => {
        profiler.start();
        counter.arm(Number(req.n), client.stream);
        return true;
      },
      go: (req) => counter.wait(Number(req.idleMs ?? 2000)),
      mem: () => ({ ...memorySample(), stray: strayCounter.count, bad: counter.bad }),
      rss: () => process.memoryUsage.rss(),
    },
    () => close(),
  );
  ready(info);
});

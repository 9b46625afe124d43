/**
 * Start-up time: builds an app with BENCH_HANDLERS `@Subscribe` handlers (100 per provider
 * class; the first is the measured handler's filter, the rest are shared.otherFilters), then times
 * `NestFactory.createApplicationContext()` + `init()`: DI, discovery of the handlers, connecting
 * and waiting for the SUBACK of every filter. Module loading (require, TS compilation) is not
 * included. Reports in its ready message, after closing the app.
 */
import { performance } from 'node:perf_hooks';
import { measuredFilter, otherFilters } from '../src/shared';
import { DrainCounter } from './drain-counter';
import { moduleAppModule, startModuleApp } from './module-app';
import { env, memorySample, ready, run, serve } from './ipc';

run(async () => {
  const handlers = Number(env('BENCH_HANDLERS'));
  const appModule = moduleAppModule({
    url: env('BENCH_URL'),
    clientId: env('BENCH_CLIENT_ID'),
    measured: {
      filter: measuredFilter(env('BENCH_PREFIX')),
      qos: 0,
      shape: 'count',
      sink: new DrainCounter(),
    },
    others: otherFilters(handlers - 1),
  });
  const t0 = performance.now();
  const app = await startModuleApp(appModule);
  const bootstrapMs = performance.now() - t0;
  const brokerFilters = app.service.topics.length;
  const memory = memorySample();
  await app.close();
  serve({});
  ready({ handlers, bootstrapMs, brokerFilters, rss: memory.rss });
});

/**
 * The measured receiver: one process per contestant. BENCH_KIND picks it:
 * - `raw`: an MQTT.js client, `client.on('message', ...)`;
 * - `module`: a Nest app with `nestjs-mqtt`, one `@Subscribe` handler;
 * - `nest`: a Nest microservice on `@nestjs/microservices`' MQTT transport, one `@EventPattern`.
 * Each subscribes BENCH_FILTER at BENCH_QOS, plus BENCH_OTHERS other wildcard filters
 * (shared.otherFilters) that never match it. Every contestant's handler does the same work:
 * `counter.hit()`.
 *
 * Requests: `arm {n}` resets the counter for n messages (the clock starts at the next bytes read); `go {idleMs}` resolves with the
 * DrainResult once n messages arrived, or after idleMs without a message; `mem` samples memory
 * after full GCs (with --expose-gc), `rss` the resident memory now.
 */
import { performance } from 'node:perf_hooks';
import { connectAsync, type MqttClient } from 'mqtt';
import type { MqttQos } from 'nestjs-mqtt';
import { otherFilters, type DrainResult } from '../src/shared';
import { moduleAppModule, startModuleApp, startNestTransportApp, strayCounter } from './apps';
import { env, memorySample, profiler, ready, run, serve } from './ipc';

/**
 * Counts messages and times the drain, from the first bytes read from the socket after the
 * receiver was resumed to the handler call of the n-th message: work a framework does before it
 * calls the first handler (the Nest transport scans every pattern first) is inside the window.
 * `hit()` is the whole per-message work of every contestant.
 */
class DrainCounter {
  private count = 0;
  private expected = 0;
  private t0 = 0;
  private cpu0: NodeJS.CpuUsage = process.cpuUsage();
  private stream: NodeJS.EventEmitter | undefined;
  private result: DrainResult | undefined;
  private resolve: ((result: DrainResult) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** Messages counted since the last `arm()`. */
  get received(): number {
    return this.count;
  }

  /** Called once per message by every contestant. */
  readonly hit = (): void => {
    const n = ++this.count;
    if (n === this.expected) this.finish(true, performance.now());
    else if (n === 1 && this.t0 === 0) this.start();
  };

  private readonly start = (): void => {
    if (this.t0 !== 0) return;
    this.t0 = performance.now();
    this.cpu0 = process.cpuUsage();
  };

  /** Resets the counter for `expected` messages; the clock starts at the next bytes read. */
  arm(expected: number, stream: NodeJS.EventEmitter | undefined): void {
    this.stopWatchdog();
    this.stream?.off('data', this.start);
    this.stream = stream;
    stream?.once('data', this.start);
    this.count = 0;
    this.t0 = 0;
    this.expected = expected;
    this.result = undefined;
    this.resolve = undefined;
  }

  /**
   * Resolves with the result, or gives up after `idleMs` in which no message arrived and the
   * process was idle (a busy process is still working through the messages it read).
   */
  wait(idleMs: number): Promise<DrainResult> {
    if (this.result) return Promise.resolve(this.result);
    return new Promise((resolve) => {
      this.resolve = resolve;
      let lastCount = this.count;
      let lastCpu = process.cpuUsage();
      let lastProgressAt = performance.now();
      let lastTick = lastProgressAt;
      this.timer = setInterval(() => {
        const now = performance.now();
        const cpu = process.cpuUsage(lastCpu);
        lastCpu = process.cpuUsage();
        const busy = (cpu.user + cpu.system) / 1000 > (now - lastTick) * 0.2;
        lastTick = now;
        if (this.count !== lastCount || busy) {
          lastCount = this.count;
          lastProgressAt = now;
        } else if (now - lastProgressAt > idleMs) {
          this.finish(false, lastProgressAt);
        }
      }, 100);
    });
  }

  private finish(complete: boolean, t1: number): void {
    if (this.result) return;
    const cpu = process.cpuUsage(this.cpu0);
    const received = Math.min(this.count, this.expected);
    const elapsedMs = received > 0 && this.t0 > 0 ? t1 - this.t0 : 0;
    this.result = {
      expected: this.expected,
      received,
      elapsedMs,
      rate: elapsedMs > 0 ? (received * 1000) / elapsedMs : 0,
      cpuUsPerMsg: received > 0 ? (cpu.user + cpu.system) / received : 0,
      complete,
    };
    this.stopWatchdog();
    this.resolve?.(this.result);
  }

  private stopWatchdog(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

async function startRaw(
  url: string,
  clientId: string,
  filter: string,
  qos: MqttQos,
  others: string[],
  onMessage: () => void,
): Promise<{ close: () => Promise<void>; client: MqttClient }> {
  const client: MqttClient = await connectAsync(url, { clientId, reconnectPeriod: 0 });
  client.on('message', () => onMessage());
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
  const others = otherFilters(Number(process.env.BENCH_OTHERS ?? 0));
  const clientId = env('BENCH_CLIENT_ID');
  const counter = new DrainCounter();
  const onMessage = counter.hit;

  const t0 = performance.now();
  let close: () => Promise<void>;
  let client: MqttClient;
  const info: Record<string, unknown> = { kind, filter, qos, others: others.length };
  if (kind === 'raw') {
    ({ close, client } = await startRaw(url, clientId, filter, qos, others, onMessage));
  } else if (kind === 'module') {
    const app = await startModuleApp(
      moduleAppModule({ url, clientId, measured: { filter, qos, onMessage }, others }),
    );
    info.brokerFilters = app.service.topics.length;
    close = app.close;
    client = app.service.client;
  } else if (kind === 'nest') {
    const app = await startNestTransportApp({
      url,
      clientId,
      measured: { filter, qos, onMessage },
      others,
      probe: { topic: filter.replace('/+/', '/probe/'), received: () => counter.received },
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
      mem: () => ({ ...memorySample(), stray: strayCounter.count }),
      rss: () => process.memoryUsage.rss(),
    },
    () => close(),
  );
  ready(info);
});

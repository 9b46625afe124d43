/**
 * What the tracing hook costs a handler call: `HandlerLane.take()` of a synchronous handler,
 * without tracing (no `@opentelemetry/api`, or MQTT 3.1.1), with the API installed but no tracer
 * provider registered, and with an SDK provider (spans created and exported to nowhere).
 *
 *   node -r ./test/support/register-ts.js bench/tracing-overhead.ts [--baseline <lane.ts>]
 *
 * `--baseline` adds a lane from another file, e.g. handler-lane.ts before the hook
 * (`git show 3485c77:libs/mqtt/src/dispatch/handler-lane.ts > /tmp/lane-before.ts`).
 */
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { IPublishPacket } from 'mqtt';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { HandlerLane } from '../libs/mqtt/src/dispatch/handler-lane';
import { RoutedMessage } from '../libs/mqtt/src/routing/routed-message';
import { parseFilter } from '../libs/mqtt/src/routing/topic.utils';
import { RoutedHandler, type MqttRoute } from '../libs/mqtt/src/routing/mqtt.router';
import { loadMqttTracing } from '../libs/mqtt/src/tracing/mqtt-tracing';

const CALLS = 1_000_000;
const ROUNDS = 7;
type Lane = Pick<HandlerLane, 'take'>;
type LaneClass = new (...args: ConstructorParameters<typeof HandlerLane>) => Lane;

function route(): MqttRoute {
  const handler = new RoutedHandler('Bench.handle', [], 1, undefined, false, () => undefined);
  const packet = {
    cmd: 'publish',
    topic: 'bench/a',
    payload: Buffer.from('1'),
    qos: 0,
    dup: false,
    retain: false,
    properties: {
      userProperties: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    },
  } as IPublishPacket;
  const message = new RoutedMessage(packet.topic, packet, parseFilter('bench/+'));
  return { handler, message };
}

/** Nanoseconds per call, median of the rounds. */
function measure(lane: Lane, r: MqttRoute): number {
  for (let i = 0; i < CALLS / 10; i++) void lane.take(r, false); // warm-up
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < CALLS; i++) void lane.take(r, false);
    rounds.push(((performance.now() - start) * 1e6) / CALLS);
  }
  return rounds.sort((a, b) => a - b)[ROUNDS >> 1];
}

function main(argv: string[]): void {
  const r = route();
  const limits = { timeout: 0, qos0QueueLimit: 1000 };
  const tracing = loadMqttTracing();
  const lanes: Array<[string, Lane]> = [
    ['no tracing (no @opentelemetry/api, or MQTT 3.1.1)', new HandlerLane(r.handler, limits)],
    ['@opentelemetry/api, no tracer provider', new HandlerLane(r.handler, { ...limits, tracing })],
  ];
  const at = argv.indexOf('--baseline');
  if (at >= 0) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { HandlerLane: Before } = require(resolve(argv[at + 1])) as { HandlerLane: LaneClass };
    lanes.unshift(['baseline (--baseline lane)', new Before(r.handler, limits)]);
  }
  const results = new Map<string, number[]>();
  for (let pass = 0; pass < 3; pass++) {
    for (const [name, lane] of lanes) {
      results.set(name, [...(results.get(name) ?? []), measure(lane, r)]);
    }
  }
  // No span processor: spans are created, sampled and ended, but not exported (an exporter's
  // pending promises would pile up in this synchronous loop).
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  results.set('SDK tracer provider (a span per call, not exported)', [
    measure(lanes.at(-1)![1], r),
  ]);
  for (const [name, values] of results) {
    const best = Math.min(...values);
    console.log(`${name.padEnd(52)} ${best.toFixed(1).padStart(7)} ns/call`);
  }
}

main(process.argv.slice(2));

/**
 * The targets of the benchmark, in one table: which ratio (ratios.ts builds it, by the same key),
 * the bar it must clear, and why that bar. Ratios of speed are "module / reference": above 1 the
 * module is faster. A ratio with no entry here is reported without a verdict.
 */
import type { RatioTarget } from './report';

/** One target. */
export interface Target extends RatioTarget {
  /** The ratio's key (ratios.ts). */
  readonly key: string;
  /** The scenario (bench/src/scenarios/<scenario>.ts). */
  readonly scenario: string;
  /** What is measured, in words. */
  readonly metric: string;
  /** Why this bar. */
  readonly why: string;
}

const atLeast = (value: number): Pick<RatioTarget, 'op' | 'value'> => ({ op: '>=', value });

export const TARGETS: readonly Target[] = [
  {
    key: 'receive-q0-module-raw',
    scenario: 'receive',
    metric: 'receive rate QoS 0, module / raw MQTT.js',
    ...atLeast(0.9),
    why: 'a framework may cost at most 10% of the client it wraps on the hot path',
  },
  {
    key: 'receive-q1-module-raw',
    scenario: 'receive',
    metric: 'receive rate QoS 1, module / raw MQTT.js',
    ...atLeast(0.9),
    why: 'the same, with acknowledgements (PUBACK after the handler)',
  },
  {
    key: 'scale-10000-module-raw1',
    scenario: 'scale',
    metric: 'receive rate with 10,000 other subscriptions, module / raw with one subscription',
    ...atLeast(0.85),
    why: 'routing must not grow with the number of subscriptions (a topic tree, not a scan)',
  },
  {
    key: 'scale-10000-module-nest',
    scenario: 'scale',
    metric: 'receive rate with 10,000 other subscriptions, module / Nest transport',
    ...atLeast(10),
    why: "the Nest transport scans its patterns per message; the module's lookup must not",
  },
  {
    key: 'devices-o0-module-raw',
    scenario: 'devices',
    metric: '100,000 device topics, @TopicParam, module / raw MQTT.js',
    ...atLeast(0.9),
    why: 'the real IoT shape: every topic new, so no lookup cache can hide the routing cost',
  },
  {
    key: 'devices-o10000-module-raw',
    scenario: 'devices',
    metric: '100,000 device topics with 10,000 other subscriptions, module / raw MQTT.js',
    ...atLeast(0.9),
    why: 'the same with a big topic tree',
  },
  {
    key: 'dto-module-raw',
    scenario: 'dto',
    metric: 'validated class DTO, module / the same libraries wired by hand on raw MQTT.js',
    ...atLeast(0.95),
    why: 'validation costs what class-validator costs: the module adds nothing on top',
  },
  {
    key: 'instructions-device-o0-module-raw',
    scenario: 'instructions',
    metric: 'device topics, @TopicParam: raw MQTT.js instructions per message / module',
    ...atLeast(0.9),
    why: 'the devices target, counted in instructions: what a noisy machine cannot blur',
  },
  {
    key: 'instructions-device-o10000-module-raw',
    scenario: 'instructions',
    metric: 'the same with 10,000 other wildcard subscriptions',
    ...atLeast(0.9),
    why: 'routing among many filters must not cost the module its margin',
  },
  {
    key: 'instructions-dto-o0-module-raw',
    scenario: 'instructions',
    metric: 'validated class DTO: raw MQTT.js + class-validator instructions per message / module',
    ...atLeast(0.95),
    why: 'the dto target, counted in instructions',
  },
  {
    key: 'dto-module-nest',
    scenario: 'dto',
    metric: 'validated class DTO, module / Nest transport with a ValidationPipe',
    ...atLeast(3),
    why: 'one validation per message, no second pass through pipes',
  },
  {
    key: 'publish-q0-module-raw',
    scenario: 'publish',
    metric: 'publish rate QoS 0, module / raw MQTT.js publishAsync',
    ...atLeast(0.9),
    why: 'publishing through the module costs at most 10% more than MQTT.js',
  },
  {
    key: 'publish-q1-module-raw',
    scenario: 'publish',
    metric: 'publish rate QoS 1, module / raw MQTT.js publishAsync',
    ...atLeast(0.9),
    why: 'the same, PUBACK awaited',
  },
  {
    key: 'latency-nodelay-q0-module-raw',
    scenario: 'latency',
    metric: 'request/reply QoS 0 (set_tcp_nodelay true), p50: raw p50 / module p50',
    ...atLeast(0.9),
    why: 'MqttService.request() at most 10% slower than the same exchange by hand',
  },
  {
    key: 'memory-module-rss-growth',
    scenario: 'memory',
    metric: 'module RSS growth after 1,000,000 messages (after GC)',
    op: '<',
    value: 30,
    unit: 'MB',
    why: 'no per-message state survives the message (no leak)',
  },
  {
    key: 'matcher-tree-ratio',
    scenario: 'matcher',
    metric: 'TopicTree lookups per CPU second, 10,000 / 10 filters',
    ...atLeast(0.5),
    why: 'a lookup walks the topic, not the filter list',
  },
];

/** The target of a ratio, if it has one. */
export function targetOf(key: string): Target | undefined {
  return TARGETS.find((t) => t.key === key);
}

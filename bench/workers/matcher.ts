/**
 * The router's matcher alone: `TopicTree.match()` lookups per CPU second with BENCH_SIZES filters
 * (shared.otherFilters plus the measured filter), and, for reference, a linear scan calling
 * `topicMatches()` on every filter (what a router without an index does per message).
 *
 * The looked-up topics are the same mix at every size: 1/4 the measured topic, 1/4 topics no
 * filter matches, 1/2 topics matching exactly one of the other filters (picked at random among
 * all of them, so a big tree is walked at random places).
 */
import { performance } from 'node:perf_hooks';
import { TopicTree } from '../../libs/mqtt/src/routing/topic-tree';
import { topicMatches } from '../../libs/mqtt/src/routing/topic.utils';
import { measuredFilter, measuredTopic, otherFilters, topicForOther } from '../src/shared';
import { env, profiler, ready, run, serve } from './ipc';

const TOPICS = 4096;

interface Setup {
  readonly tree: TopicTree<object>;
  readonly filters: string[];
  readonly topics: string[];
}

/** A deterministic pseudo-random sequence (LCG), so every run looks up the same topics. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function setup(size: number): Setup {
  const filters = [...otherFilters(size), measuredFilter('bench/rmatch/module')];
  const tree = new TopicTree<object>();
  filters.forEach((filter, i) => tree.add(filter, { handler: i }));
  const random = lcg(42);
  const topics: string[] = [];
  for (let i = 0; i < TOPICS; i++) {
    switch (i % 4) {
      case 0:
        topics.push(measuredTopic('bench/rmatch/module', `t${i}`));
        break;
      case 1:
        topics.push(`nomatch/${i}/x`);
        break;
      default:
        topics.push(topicForOther(Math.floor(random() * size)));
    }
  }
  return { tree, filters, topics };
}

/**
 * Lookups per second of CPU time, during about `ms` milliseconds of CPU time: the loop is pure
 * CPU work, so CPU time (unlike wall-clock time) does not count the time the process waited for
 * a core on a shared machine. `matched` keeps the work observable.
 */
function measure(
  topics: string[],
  lookup: (topic: string) => number,
  ms: number,
): { rate: number; wallRate: number; matchedPerLookup: number } {
  // Lookups between two clock reads: grown to about 5 ms of work, so reading the clock costs
  // well under 1% at every size.
  let chunk = 16;
  let lookups = 0;
  let matched = 0;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let cpuMs = 0;
  do {
    const before = cpuMs;
    for (let i = 0; i < chunk; i++) {
      matched += lookup(topics[next]);
      next = next + 1 === topics.length ? 0 : next + 1;
    }
    lookups += chunk;
    const cpu = process.cpuUsage(cpu0);
    cpuMs = (cpu.user + cpu.system) / 1000;
    if (cpuMs - before < 5) chunk = Math.min(chunk * 2, 1 << 20);
  } while (cpuMs < ms);
  const wallMs = performance.now() - t0;
  return {
    rate: (lookups * 1000) / cpuMs,
    wallRate: (lookups * 1000) / wallMs,
    matchedPerLookup: matched / lookups,
  };
}

run(async () => {
  const sizes = env('BENCH_SIZES').split(',').map(Number);
  const setups = new Map(sizes.map((size) => [size, setup(size)]));
  serve({
    lookup: (req) => {
      profiler.start();
      const s = setups.get(Number(req.size));
      if (!s) throw new Error(`no setup for size ${String(req.size)}`);
      const ms = Number(req.ms);
      if (req.impl === 'linear') {
        const { filters } = s;
        return measure(
          s.topics,
          (topic) => {
            let n = 0;
            for (let i = 0; i < filters.length; i++) if (topicMatches(filters[i], topic)) n++;
            return n;
          },
          ms,
        );
      }
      const { tree } = s;
      return measure(s.topics, (topic) => tree.match(topic).length, ms);
    },
  });
  ready({ sizes });
  return Promise.resolve();
});

/**
 * What the orchestrator (bench/src/) and the worker processes (bench/workers/) share: the
 * IPC protocol, the topic filters and the payload.
 */

/** A request from the orchestrator to a worker; `id` pairs it with its reply. */
export interface WorkerRequest {
  readonly id: number;
  readonly cmd: string;
  readonly [key: string]: unknown;
}

/** A worker's reply to one request. */
export interface WorkerReply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

/** The first message of every worker, once it is ready to take requests. */
export interface WorkerReady {
  readonly ready: true;
  readonly info?: Record<string, unknown>;
}

/** What a receiver reports for one measured drain. */
export interface DrainResult {
  /** Messages the orchestrator asked for. */
  readonly expected: number;
  /** Messages that arrived (fewer: the broker dropped some, or they were late). */
  readonly received: number;
  /** Milliseconds from the first bytes read to the handler call of the last message. */
  readonly elapsedMs: number;
  /** received / elapsed, in messages per second. */
  readonly rate: number;
  /** CPU time (user + system) of the receiver process per message, in microseconds. */
  readonly cpuUsPerMsg: number;
  /** What the receiver process did during the drain (Linux /proc; zeros elsewhere). */
  readonly counters?: ProcessCounters;
  /** False when it stopped waiting because no message came for a while. */
  readonly complete: boolean;
}

/** A receiver's counters over a drain (bench/workers/proc-counters.ts). */
export interface ProcessCounters {
  /** CPU time of the JavaScript thread alone, in nanoseconds. */
  readonly mainThreadNs: number;
  /** read(2)-family syscalls: socket reads, mostly. */
  readonly reads: number;
  /** Times the process gave up the CPU to wait (for the socket, or for GC helper threads). */
  readonly voluntarySwitches: number;
  /** Times the kernel took the CPU away for another process. */
  readonly forcedSwitches: number;
}

/**
 * What the measured handler does with each message, the same for every contestant:
 * - `count`: counts it;
 * - `device`: takes the device id out of the topic (`@TopicParam('id')` on `…/+id/data`, by hand
 *   elsewhere), checks it, counts it;
 * - `dto`: JSON-parses the payload into a validated class instance (class-transformer +
 *   class-validator), checks it, counts it.
 */
export type HandlerShape = 'count' | 'device' | 'dto';

/** What a request/reply requester reports for one run of sequential requests. */
export interface LatencyRunResult {
  /** Milliseconds of every request, from the call to its reply, in order. */
  readonly latenciesMs: number[];
  readonly failed: number;
  /** CPU time (user + system) of the requester process over the run, in microseconds. */
  readonly cpuUs: number;
}

/** What a measured publisher reports for one run. */
export interface PublishResult {
  readonly count: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly rate: number;
  readonly cpuUsPerMsg: number;
}

/** Memory of a worker process, in bytes, after `global.gc()` when it was exposed. */
export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly gc: boolean;
}

/**
 * The payload of every benchmark message: a small JSON object, so that the Nest microservices
 * transport (which JSON-parses every payload) receives what it expects.
 */
export const PAYLOAD = Buffer.from(
  JSON.stringify({ seq: 1, device: 'sensor-0001', temperature: 21.5, unit: 'C', ok: true }),
);

/**
 * `count` wildcard filters, all different, none of which matches a topic under
 * `bench/<run id>/...` (the run id starts with `r`, never a digit, and is never `other`).
 * Four shapes, so the other subscriptions branch at several levels like a real app's.
 */
export function otherFilters(count: number): string[] {
  const filters: string[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 4) {
      case 0:
        filters.push(`bench/other/${i}/+/value`);
        break;
      case 1:
        filters.push(`bench/+/other${i}/#`);
        break;
      case 2:
        filters.push(`+/${i}/status/+`);
        break;
      default:
        filters.push(`site/${i}/+/+/temp`);
    }
  }
  return filters;
}

/** A topic that matches exactly the filter `otherFilters(n)[i]` (for the matcher benchmark). */
export function topicForOther(i: number): string {
  switch (i % 4) {
    case 0:
      return `bench/other/${i}/dev${i}/value`;
    case 1:
      return `bench/x${i}/other${i}/deep/er`;
    case 2:
      return `plant${i}/${i}/status/online`;
    default:
      return `site/${i}/hall/dev${i}/temp`;
  }
}

/** The filter one receiver subscribes to: a `+` wildcard, like most real handlers. */
export function measuredFilter(prefix: string): string {
  return `${prefix}/+/data`;
}

/** The topic template of many devices under `prefix`; the publisher replaces `{i}`. */
export function deviceTopics(prefix: string): string {
  return `${prefix}/dev{i}/data`;
}

/** The topic of one round of `measuredFilter(prefix)`. */
export function measuredTopic(prefix: string, round: string): string {
  return `${prefix}/${round}/data`;
}

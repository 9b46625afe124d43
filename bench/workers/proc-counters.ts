/**
 * What a receiver did during a drain besides its CPU total, read from Linux's /proc (zeros on
 * other systems): the main thread's own CPU time (the JavaScript thread, without the GC and
 * compiler helper threads that process.cpuUsage() adds in), socket reads, and how often the
 * process waited or was preempted. They explain a timing; they are not targets.
 */
import { readFileSync } from 'node:fs';
import type { ProcessCounters } from '../src/shared';

const ZERO: ProcessCounters = {
  mainThreadNs: 0,
  reads: 0,
  voluntarySwitches: 0,
  forcedSwitches: 0,
};

/** The counters of this process so far. */
export function processCounters(): ProcessCounters {
  try {
    const io = readFileSync('/proc/self/io', 'utf8');
    const main = `/proc/self/task/${process.pid}`;
    const status = readFileSync(`${main}/status`, 'utf8');
    return {
      // schedstat: nanoseconds on the CPU, nanoseconds waiting to run, timeslices.
      mainThreadNs: Number(readFileSync(`${main}/schedstat`, 'utf8').split(' ')[0]),
      reads: field(io, 'syscr'),
      voluntarySwitches: field(status, 'voluntary_ctxt_switches'),
      forcedSwitches: field(status, 'nonvoluntary_ctxt_switches'),
    };
  } catch {
    return ZERO;
  }
}

/** `after - before`, field by field. */
export function countersSince(before: ProcessCounters, after: ProcessCounters): ProcessCounters {
  return {
    mainThreadNs: after.mainThreadNs - before.mainThreadNs,
    reads: after.reads - before.reads,
    voluntarySwitches: after.voluntarySwitches - before.voluntarySwitches,
    forcedSwitches: after.forcedSwitches - before.forcedSwitches,
  };
}

function field(text: string, name: string): number {
  return Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

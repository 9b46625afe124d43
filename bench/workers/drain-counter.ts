/**
 * The measured handlers' sink: counts messages and times a drain, from the first bytes read from
 * the socket after the receiver was resumed to the handler call of the n-th message. Work a
 * framework does before it calls the first handler (the Nest transport scans every pattern
 * first) is inside the window.
 */
import { performance } from 'node:perf_hooks';
import type { DrainResult, ProcessCounters } from '../src/shared';
import { countersSince, processCounters } from './proc-counters';

/** What the measured handler of every contestant calls, once per message. */
export interface MessageSink {
  /** `count` shape: the whole per-message work. */
  hit(): void;
  /** `device` shape: the device id the handler got from the topic. */
  device(id: string): void;
  /** `dto` shape: the validated payload, or `undefined` when validation failed. */
  reading(dto: { seq: number; device: string } | undefined): void;
}

/** Counts messages, checks the values handlers pass, times drains. */
export class DrainCounter implements MessageSink {
  private count = 0;
  private expected = 0;
  private t0 = 0;
  private cpu0: NodeJS.CpuUsage = process.cpuUsage();
  private counters0: ProcessCounters = processCounters();
  private stream: NodeJS.EventEmitter | undefined;
  private result: DrainResult | undefined;
  private resolve: ((result: DrainResult) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Handler calls with a wrong value (a device id or DTO that is not what was published). */
  bad = 0;

  /** Messages counted since the last `arm()`. */
  get received(): number {
    return this.count;
  }

  readonly hit = (): void => {
    const n = ++this.count;
    if (n === this.expected) this.finish(true, performance.now());
    else if (n === 1 && this.t0 === 0) this.start();
  };

  readonly device = (id: string): void => {
    // Every published device id is `dev<N>`.
    if (id.length < 4 || id.charCodeAt(0) !== 100 /* d */) this.bad++;
    this.hit();
  };

  readonly reading = (dto: { seq: number; device: string } | undefined): void => {
    if (dto === undefined || dto.seq !== 1 || typeof dto.device !== 'string') this.bad++;
    this.hit();
  };

  private readonly start = (): void => {
    if (this.t0 !== 0) return;
    this.t0 = performance.now();
    this.cpu0 = process.cpuUsage();
    this.counters0 = processCounters();
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
    const counters = countersSince(this.counters0, processCounters());
    const received = Math.min(this.count, this.expected);
    const elapsedMs = received > 0 && this.t0 > 0 ? t1 - this.t0 : 0;
    this.result = {
      expected: this.expected,
      received,
      elapsedMs,
      rate: elapsedMs > 0 ? (received * 1000) / elapsedMs : 0,
      cpuUsPerMsg: received > 0 ? (cpu.user + cpu.system) / received : 0,
      counters,
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

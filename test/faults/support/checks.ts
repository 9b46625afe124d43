/**
 * The checks every fault test makes: a bounded wait for the last messages that gives up early
 * once nothing moves, the loss assertion with the figures in its message, and a guard against
 * unhandled rejections.
 */
import { watchUnhandledRejections } from '../../fixtures/reliability-helpers';
import { delay } from '../../support';
import { logFigures, type FaultReport, type Tally } from './tally';

/** Options of {@link waitForAll}. */
export interface WaitForAllOptions {
  /** Give up when no new number arrived for this long. @default 5000 */
  readonly idleMs?: number;
  /** Give up after this long in any case. @default 60000 */
  readonly maxMs?: number;
}

/**
 * Waits until every number in `sent` was handled, or nothing new arrived for `idleMs` (a stall
 * or a loss), or `maxMs` passed; then returns the counted report. It never throws: the caller
 * asserts on the figures with {@link expectNothingLost}.
 */
export async function waitForAll(
  tally: Tally,
  sent: readonly number[],
  { idleMs = 5000, maxMs = 60_000 }: WaitForAllOptions = {},
): Promise<FaultReport & { waitedMs: number; stalled: boolean }> {
  const start = Date.now();
  let last = -1;
  let lastChange = start;
  for (;;) {
    const report = tally.report(sent);
    if (report.lost === 0) return { ...report, waitedMs: Date.now() - start, stalled: false };
    if (report.received !== last) {
      last = report.received;
      lastChange = Date.now();
    }
    const now = Date.now();
    if (now - lastChange > idleMs || now - start > maxMs) {
      return { ...report, waitedMs: now - start, stalled: true };
    }
    await delay(50);
  }
}

/** Logs the figures of `name`, then fails (with them in the message) when anything was lost. */
export function expectNothingLost(
  name: string,
  report: FaultReport & { waitedMs?: number },
  extra: Record<string, unknown> = {},
): void {
  logFigures(name, {
    sent: report.sent,
    received: report.received,
    lost: report.lost,
    duplicates: report.duplicates,
    ...extra,
  });
  if (report.lost > 0) {
    throw new Error(
      `${name}: ${report.lost} of ${report.sent} acknowledged messages were never handled ` +
        `(first lost: ${report.lostSample.join(', ')}; received ${report.received}, ` +
        `duplicates ${report.duplicates}${report.waitedMs ? `, waited ${report.waitedMs} ms` : ''})`,
    );
  }
}

/**
 * Records unhandled rejections of the real process from now on (call it at the top of a
 * describe): `check()` throws when there was any, `stop()` stops listening (afterAll).
 */
export function guardUnhandledRejections(): { check(): void; stop(): void } {
  const watch = watchUnhandledRejections();
  return {
    check: () => {
      if (watch.reasons.length > 0) {
        const reasons = watch.reasons.slice(0, 3).map((r) => (r instanceof Error ? r.stack : r));
        throw new Error(`${watch.reasons.length} unhandled rejection(s): ${reasons.join('\n')}`);
      }
    },
    stop: () => watch.stop(),
  };
}

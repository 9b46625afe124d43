/**
 * Jepsen-style counting for the fault suite: every message carries its sequence number, the
 * receiver records each number it handled, and the report says how many of those that were
 * sent never arrived (lost) and how many arrived more than once (duplicates).
 */
import { appendFileSync } from 'node:fs';

/** The figures of one fault test. */
export interface FaultReport {
  /** Messages the publisher got acknowledged (QoS 1) or wrote (QoS 0). */
  readonly sent: number;
  /** Distinct sequence numbers handled. */
  readonly received: number;
  /** Sent but never handled. */
  readonly lost: number;
  /** Handled calls beyond the first for the same number. */
  readonly duplicates: number;
  /** The first few lost numbers, for diagnosis. */
  readonly lostSample: number[];
}

/** The distinct sequence numbers a receiver handled, and how often each. */
export class Tally {
  private readonly seen = new Map<number, number>();
  private calls = 0;

  /** Records one handled call of message `n`. */
  record(n: number): void {
    this.calls++;
    this.seen.set(n, (this.seen.get(n) ?? 0) + 1);
  }

  /** Distinct numbers handled so far. */
  get distinct(): number {
    return this.seen.size;
  }

  /** Handled calls so far, duplicates included. */
  get total(): number {
    return this.calls;
  }

  has(n: number): boolean {
    return this.seen.has(n);
  }

  /** Counts `sent` (the numbers the publisher had acknowledged) against what was handled. */
  report(sent: Iterable<number>): FaultReport {
    let count = 0;
    const lost: number[] = [];
    for (const n of sent) {
      count++;
      if (!this.seen.has(n)) lost.push(n);
    }
    return {
      sent: count,
      received: count - lost.length,
      lost: lost.length,
      duplicates: this.calls - this.seen.size,
      lostSample: lost.slice(0, 10),
    };
  }
}

/** A sequence number from a payload: its decimal text (surrounding spaces allowed). */
export function sequenceOf(payload: Buffer | string): number {
  const n = Number.parseInt(payload.toString(), 10);
  if (!Number.isInteger(n)) throw new Error(`not a sequence number: ${JSON.stringify(payload)}`);
  return n;
}

/**
 * Prints the figures of a fault test as one line (`FAULT <name>: sent ... lost ... duplicates
 * ...`) and, when FAULTS_REPORT names a file, appends them there as a JSON line, so that
 * docs/faults.md can quote the last run.
 */
export function logFigures(name: string, figures: Record<string, unknown>): void {
  const text = Object.entries(figures)
    .map(([key, value]) => `${key} ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
  console.info(`FAULT ${name}: ${text}`);
  const file = process.env.FAULTS_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ name, ...figures, at: new Date() })}\n`);
}

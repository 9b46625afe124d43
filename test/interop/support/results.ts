/**
 * Each interop suite writes what it measured to `test/interop/results/<broker>.json` (ignored by
 * git); `scripts/support-table.ts` turns them into the support table of docs/brokers.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { BrokerFeatures } from './features';

/** Where the results go. */
export const RESULTS_DIR = join(__dirname, '..', 'results');

/** Numbered QoS 1 messages through a node loss (or restart). */
export interface FailoverFigures {
  readonly scenario: string;
  readonly published: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Times the publisher reconnected to get PUBACKs it waited for in vain. */
  readonly publisherResets: number;
  /** Milliseconds from the kill until the app was connected again. */
  readonly reconnectMs: number;
  /** Whether lost must be 0 here (the broker promises it). */
  readonly asserted: boolean;
}

/** What one suite measured for one broker. */
export interface BrokerResult {
  /** File name and table key: mosquitto, aedes, aedes-cluster, nats, rabbitmq. */
  readonly id: string;
  /** Table row name, with version and topology. */
  readonly name: string;
  readonly measuredAt: string;
  readonly features: BrokerFeatures;
  /** Session taken over on another node after a node loss, as measured. */
  readonly takeover: string;
  readonly failover: FailoverFigures[];
  /** What the module does about what the broker lacks, as tested. */
  readonly module: string[];
}

/** Writes `results/<id>.json`. */
export function writeResult(result: BrokerResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${result.id}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

import { statSync } from 'node:fs';
import { join } from 'node:path';

import { until, type MosquittoBroker } from '../../support';

function countSaves(broker: MosquittoBroker): number {
  return broker.readLog().split('Saving in-memory database').length - 1;
}

function databaseStamp(broker: MosquittoBroker): string {
  try {
    const stat = statSync(join(broker.dir, 'mosquitto.db'));
    return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
  } catch {
    return 'none';
  }
}

/**
 * Crashes a broker started with `persistence: true`: SIGUSR1 (Mosquitto writes its database),
 * wait until the new file is in place, then SIGKILL. Mosquitto itself only saves every
 * `autosave_interval`, so without this a crash would lose what the broker had acknowledged and
 * not yet saved: a broker durability figure, not the client's. Messages still in flight to and
 * in the app at that moment are what the test puts at risk.
 */
export async function saveAndCrash(broker: MosquittoBroker): Promise<void> {
  const saves = countSaves(broker);
  const stamp = databaseStamp(broker);
  await broker.kill('SIGUSR1');
  await until(
    'Mosquitto to write its database after SIGUSR1',
    () => countSaves(broker) > saves && databaseStamp(broker) !== stamp,
    5000,
  );
  await broker.kill('SIGKILL');
}

/**
 * The single brokers of the support table, Mosquitto and aedes (in-process, memory persistence):
 * what they support, and three replicas of an app in one MQTT_SHARED_GROUP with
 * MQTT_PROBE_SHARED=true: on Mosquitto the probe passes and each message is handled once.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  findExecutable,
  startAedes,
  startMosquitto,
  type AedesBroker,
  type MosquittoBroker,
} from '../support';
import { brokerNode, describeWithBinaries, type BrokerNode } from './support/broker-node';
import { measureFeatures } from './support/features';
import { publishSequence } from './support/counting';
import { sharedProbeError, startReplicas } from './support/module-checks';
import { writeResult } from './support/results';
import { connectClient, closeClient, uid, until } from '../support';

jest.setTimeout(60_000);

const ITEMS = 300;

/** A BrokerNode view of a broker that is not killed in these tests. */
function nodeOf(name: string, port: number): BrokerNode {
  return {
    ...brokerNode(name, port, { stdout: null, stderr: null } as never),
    kill: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
}

describeWithBinaries(
  'Mosquitto (single node)',
  ['mosquitto'],
  'apt-get install -y mosquitto',
  () => {
    let broker: MosquittoBroker;
    const module: string[] = [];

    beforeAll(async () => {
      broker = await startMosquitto();
    });
    afterAll(async () => {
      await broker?.stop();
    });

    it(`supports MQTT 5, QoS 2, retained and shared subscriptions; three replicas in one group handle each of ${ITEMS} messages once`, async () => {
      const features = await measureFeatures([broker.url]);
      expect(features.mqtt5.ok).toBe(true);
      expect(features.qos2.ok).toBe(true);
      expect(features.retained.ok).toBe(true);
      expect(features.shared).toEqual({ ok: true, detail: 'each message once' });

      const topic = `interop/${uid('jobs')}`;
      const replicas = await startReplicas([nodeOf('mosquitto', broker.port)], topic);
      try {
        module.push(
          'Shared subscriptions: MQTT_PROBE_SHARED=true passes; 3 replicas handle each message once',
        );
        const publisher = await connectClient(broker.url);
        await publishSequence(publisher, topic, ITEMS);
        await closeClient(publisher);
        const total = () => replicas.sinks.reduce((n, s) => n + s.deliveries, 0);
        await until(`${ITEMS} deliveries`, () => total() >= ITEMS, 10_000);
        const seen = new Set(replicas.sinks.flatMap((s) => [...s.counts.keys()]));
        expect(seen.size).toBe(ITEMS);
        expect(total()).toBe(ITEMS);
        expect(replicas.sinks.every((s) => s.deliveries > 0)).toBe(true);
      } finally {
        await replicas.close();
      }
      // `mosquitto -h` prints its version and exits 3.
      const help = spawnSync(findExecutable('mosquitto')!, ['-h']).stdout.toString();
      const version = /mosquitto version (\S+)/i.exec(help)?.[1] ?? '2.x';
      writeResult({
        id: 'mosquitto',
        name: `Mosquitto ${version}, 1 node`,
        measuredAt: new Date().toISOString(),
        features,
        takeover: 'one node',
        failover: [],
        module,
      });
    });
  },
);

describe('aedes (single node, in process)', () => {
  let broker: AedesBroker;

  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('supports QoS 2 and retained; not MQTT 5 nor shared subscriptions, which MQTT_PROBE_SHARED reports', async () => {
    const features = await measureFeatures([broker.url]);
    expect(features.qos2.ok).toBe(true);
    expect(features.retained.ok).toBe(true);
    const error = await sharedProbeError([nodeOf('aedes', broker.port)]);
    expect(error.message).toContain('Unset MQTT_SHARED_GROUP');
    const version = (
      JSON.parse(readFileSync(join(require.resolve('aedes'), '..', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    writeResult({
      id: 'aedes',
      name: `aedes ${version}, 1 node, in-memory persistence`,
      measuredAt: new Date().toISOString(),
      features,
      takeover: 'one node',
      failover: [],
      module: features.shared.ok
        ? []
        : [
            'Shared subscriptions: MQTT_PROBE_SHARED=true fails the bootstrap naming MQTT_SHARED_GROUP',
          ],
    });
  });
});

/**
 * Two aedes 0.51 nodes sharing Redis (mqemitter-redis, aedes-persistence-redis), each its own
 * process: what they support, and numbered QoS 1 messages through a node SIGKILL while the app
 * fails over, with aedes-persistence-redis's default `maxSessionDelivery` (1000) and a raised one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { closeClient, connectClient, delay, randomClientId, uid } from '../support';
import { describeWithBinaries } from './support/broker-node';
import { startAedesCluster, type AedesCluster } from './support/aedes-cluster';
import { measureFeatures, type BrokerFeatures } from './support/features';
import { expectNoLoss, runFailover } from './support/failover';
import { mqtt5BootstrapError, sharedProbeError } from './support/module-checks';
import { writeResult, type FailoverFigures } from './support/results';

jest.setTimeout(60_000);

/**
 * The numbers a session still holds: connects with its client id and collects until nothing new
 * came for a second (at most 10 s).
 */
async function drainSession(url: string, clientId: string): Promise<Set<number>> {
  const client = await connectClient(url, { clientId, clean: false });
  const numbers = new Set<number>();
  let lastAt = Date.now();
  client.on('message', (_topic, payload) => {
    numbers.add(Number(payload.toString()));
    lastAt = Date.now();
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() - lastAt < 1000 && Date.now() < deadline) await delay(100);
  await closeClient(client);
  return numbers;
}

const MESSAGES = 1500;
const aedesVersion = (
  JSON.parse(readFileSync(join(require.resolve('aedes'), '..', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

describeWithBinaries(
  'aedes cluster (2 nodes sharing Redis)',
  ['redis-server'],
  'apt-get install -y redis-server',
  () => {
    let features: BrokerFeatures;
    const failover: FailoverFigures[] = [];
    const module: string[] = [];

    afterAll(() => {
      if (!features) return;
      writeResult({
        id: 'aedes-cluster',
        name: `aedes ${aedesVersion}, 2 nodes, Redis (mqemitter-redis, aedes-persistence-redis)`,
        measuredAt: new Date().toISOString(),
        features,
        takeover:
          'yes: the session resumed on the other node (all queued messages only with maxSessionDelivery above the backlog)',
        failover,
        module,
      });
    });

    const withCluster = async (
      env: Record<string, string>,
      run: (c: AedesCluster) => Promise<void>,
    ) => {
      const cluster = await startAedesCluster(2, env);
      try {
        await run(cluster);
      } finally {
        await cluster.stop();
      }
    };

    it('supports QoS 2 and retained messages across nodes; MQTT 5 and $share are not', async () => {
      await withCluster({}, async (cluster) => {
        features = await measureFeatures(cluster.nodes.map((n) => n.url));
        const error = await mqtt5BootstrapError(cluster.nodes[0]);
        expect(error.message).toContain('Set MQTT_PROTOCOL_VERSION=MQTTv311');
        module.push('MQTT 5: bootstrap error naming MQTT_PROTOCOL_VERSION=MQTTv311');
        const shared = await sharedProbeError(cluster.nodes);
        expect(shared.message).toContain('Unset MQTT_SHARED_GROUP');
        module.push(
          'Shared subscriptions: MQTT_PROBE_SHARED=true fails the bootstrap naming MQTT_SHARED_GROUP',
        );
      });
      expect(features.qos2.ok).toBe(true);
      expect(features.retained.ok).toBe(true);
      expect(features.mqtt5.ok).toBe(false);
      expect(features.shared.ok).toBe(false);
    });

    it(`node A SIGKILLed, maxSessionDelivery raised to 100000: no loss of ${MESSAGES} QoS 1 messages`, async () => {
      await withCluster({ AEDES_MAX_SESSION_DELIVERY: '100000' }, async (cluster) => {
        const result = await runFailover({
          nodes: cluster.nodes,
          publishTo: cluster.nodes[1],
          messages: MESSAGES,
          killAfter: MESSAGES / 3,
          quietMs: 8000,
          window: 1,
        });
        failover.push({
          scenario:
            'app on node A, publisher on node B, node A SIGKILLed; maxSessionDelivery 100000',
          published: result.published,
          lost: result.lost.length,
          duplicates: result.duplicates,
          reconnectMs: result.reconnectMs,
          publisherResets: result.publisherResets,
          asserted: true,
        });
        expectNoLoss(result);
        expect(result.brokerAfter).toBe(cluster.nodes[1].url);
      });
    });

    it(`node A SIGKILLed, default maxSessionDelivery (1000): what the failover CONNECT leaves queued comes with the next CONNECT`, async () => {
      await withCluster({}, async (cluster) => {
        const clientId = randomClientId('failover');
        const topic = `interop/${uid('seq')}`;
        const result = await runFailover({
          nodes: cluster.nodes,
          publishTo: cluster.nodes[1],
          messages: MESSAGES,
          killAfter: MESSAGES / 3,
          quietMs: 8000,
          window: 1,
          clientId,
          topic,
        });
        // The app closed cleanly and its session stays: what the failover CONNECT left queued
        // comes with the next CONNECT of the same client id.
        const later = await drainSession(cluster.nodes[1].url, clientId);
        failover.push({
          scenario:
            'app on node A, publisher on node B, node A SIGKILLed; maxSessionDelivery 1000 (default); lost = not delivered before the next CONNECT',
          published: result.published,
          lost: result.lost.length,
          duplicates: result.duplicates,
          reconnectMs: result.reconnectMs,
          publisherResets: result.publisherResets,
          asserted: false,
        });
        expect(result.published).toBe(MESSAGES);
        expect(result.lost.filter((seq) => !later.has(seq))).toEqual([]);
      });
    });
  },
);

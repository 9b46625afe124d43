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
/**
 * What the session of `clientId` still holds: aedes-persistence-redis sends at most
 * maxSessionDelivery (1000) queued messages per CONNECT, so connect again until a CONNECT brings
 * nothing new (at most 5 times).
 */
async function drainSession(url: string, clientId: string): Promise<Set<number>> {
  const numbers = new Set<number>();
  for (let connects = 0; connects < 5; connects++) {
    const before = numbers.size;
    const client = await connectClient(url, { clientId, clean: false });
    const started = Date.now();
    let lastAt = 0;
    client.on('message', (_topic, payload) => {
      numbers.add(Number(payload.toString()));
      lastAt = Date.now();
    });
    // Wait for the first message up to 3 s, then until 1 s passes without one.
    while (lastAt === 0 ? Date.now() - started < 3000 : Date.now() - lastAt < 1000) {
      await delay(100);
    }
    await closeClient(client);
    if (numbers.size === before) break;
  }
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

    it(`node A SIGKILLed, default maxSessionDelivery (1000): the app fails over; what the broker never delivers, even on the next CONNECTs, is counted (aedes does not promise it)`, async () => {
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
        // comes with the next CONNECTs of the same client id. aedes-persistence-redis with its
        // default maxSessionDelivery does not promise even that under load (the last few
        // messages of a run were seen missing now and then): the figure is recorded, not
        // asserted; the guarantee is asserted with maxSessionDelivery raised, above.
        const later = await drainSession(cluster.nodes[1].url, clientId);
        const missing = result.lost.filter((seq) => !later.has(seq));
        failover.push({
          scenario:
            'app on node A, publisher on node B, node A SIGKILLed; maxSessionDelivery 1000 (default); lost = not delivered before the next CONNECTs',
          published: result.published,
          lost: missing.length,
          duplicates: result.duplicates,
          reconnectMs: result.reconnectMs,
          publisherResets: result.publisherResets,
          asserted: false,
        });
        console.info(
          `aedes default maxSessionDelivery: ${result.lost.length} not handled before counting ended, ${missing.length} still missing after the next CONNECTs (${missing.join(', ')})`,
        );
        expect(result.published).toBe(MESSAGES);
        expect(result.reconnectMs).toBeGreaterThanOrEqual(0);
      });
    });
  },
);

/**
 * NATS 2.9 with its MQTT listener, 3 nodes with JetStream (sessions in streams with 3 replicas):
 * what it supports, what the module says about what it lacks, and numbered QoS 1 messages
 * through a node SIGKILL while the app fails over to the next broker of its list.
 */
import { execFileSync } from 'node:child_process';

import { findExecutable } from '../support';
import { describeWithBinaries } from './support/broker-node';
import { measureFeatures, type BrokerFeatures } from './support/features';
import { expectNoLoss, runFailover } from './support/failover';
import {
  mqtt5BootstrapError,
  qos2RefusedByModule,
  sharedProbeError,
} from './support/module-checks';
import { startNatsCluster, type NatsCluster } from './support/nats-cluster';
import { writeResult, type FailoverFigures } from './support/results';

jest.setTimeout(90_000);

const MESSAGES = 600;
const ACK_WAIT_S = 2;

describeWithBinaries(
  'NATS cluster (3 nodes, JetStream, MQTT)',
  ['nats-server'],
  'apt-get install -y nats-server',
  () => {
    let cluster: NatsCluster;
    let features: BrokerFeatures;
    const failover: FailoverFigures[] = [];
    const module: string[] = [];

    beforeAll(async () => {
      cluster = await startNatsCluster({ ackWait: ACK_WAIT_S });
    });

    afterAll(async () => {
      await cluster?.stop();
      if (!features) return;
      const version = execFileSync(findExecutable('nats-server')!, ['--version']).toString().trim();
      writeResult({
        id: 'nats',
        name: `NATS ${version.replace(/^nats-server: v/, '')}, 3 nodes, JetStream`,
        measuredAt: new Date().toISOString(),
        features,
        takeover: failover.length ? 'yes: the session resumed on another node' : 'not measured',
        failover,
        module,
      });
    });

    it('supports QoS 1 and retained messages; refuses MQTT 5 (CONNACK 1); drops the connection on a QoS 2 PUBLISH; $share delivers nothing', async () => {
      features = await measureFeatures(cluster.nodes.map((n) => n.url));
      expect(features.retained.ok).toBe(true);
      expect(features.mqtt5).toEqual({
        ok: false,
        detail: 'CONNACK 1: unacceptable protocol version',
      });
      expect(features.qos2.ok).toBe(false);
      expect(features.shared).toEqual({ ok: false, detail: 'accepted, delivers nothing' });
    });

    it('MQTT 5 refused at CONNECT: the bootstrap error says to set MQTT_PROTOCOL_VERSION=MQTTv311', async () => {
      const error = await mqtt5BootstrapError(cluster.nodes[1]);
      expect(error.message).toContain(
        'does not support MQTT 5. Set MQTT_PROTOCOL_VERSION=MQTTv311',
      );
      module.push('MQTT 5: bootstrap error naming MQTT_PROTOCOL_VERSION=MQTTv311');
    });

    it('MQTT_MAX_QOS=1: a QoS 2 publish is refused by the module, the connection stays up', async () => {
      const error = await qos2RefusedByModule(cluster.nodes[1]);
      expect(error.message).toContain('supports QoS 1 at most (MQTT_MAX_QOS=1)');
      module.push(
        'QoS 2: MQTT_MAX_QOS=1 refuses QoS 2 publishes (MqttPublishError), subscriptions ask QoS 1',
      );
    });

    it('MQTT_PROBE_SHARED: a replica with MQTT_SHARED_GROUP fails its bootstrap naming the key', async () => {
      const error = await sharedProbeError(cluster.nodes);
      expect(error.message).toContain('delivered nothing through one within 1000 ms');
      expect(error.message).toContain('Unset MQTT_SHARED_GROUP');
      module.push(
        'Shared subscriptions: MQTT_PROBE_SHARED=true fails the bootstrap naming MQTT_SHARED_GROUP',
      );
    });

    it(`node A SIGKILLed mid-stream: the app fails over to node B and loses none of ${MESSAGES} QoS 1 messages`, async () => {
      const result = await runFailover({
        nodes: cluster.nodes,
        publishTo: cluster.nodes[1],
        messages: MESSAGES,
        killAfter: MESSAGES / 3,
        // Connects are refused while JetStream elects new stream leaders (up to ~10 s here);
        // messages node A sent but that were not acknowledged come back after ack_wait.
        quietMs: (ACK_WAIT_S + 12) * 1000,
        // PUBACKs the publisher waited for from the dead node may never come.
        publishWithinMs: 20_000,
      });
      failover.push({
        scenario: 'app on node A, publisher on node B, node A SIGKILLed',
        published: result.published,
        lost: result.lost.length,
        duplicates: result.duplicates,
        reconnectMs: result.reconnectMs,
        publisherResets: result.publisherResets,
        asserted: true,
      });
      expect(result.portAfter).not.toBe(cluster.nodes[0].port);
      expect(result.brokerAfter).toBe(`mqtt://127.0.0.1:${result.portAfter}`);
      expect(result.published).toBe(MESSAGES);
      expectNoLoss(result);
    });
  },
);

/**
 * RabbitMQ 3.10 with its rabbitmq_mqtt plugin, one node of the test's own: what it supports,
 * what the module says about what it lacks, and numbered QoS 1 messages through a SIGKILL and
 * restart of the node (one node: the app reconnects to the same broker).
 */
import { execFileSync } from 'node:child_process';

import { describeWithBinaries } from './support/broker-node';
import { measureFeatures, type BrokerFeatures } from './support/features';
import { expectNoLoss, runFailover } from './support/failover';
import { mqtt5BootstrapError, sharedProbeError } from './support/module-checks';
import { startRabbitMq, type RabbitMqNode } from './support/rabbitmq';
import { writeResult, type FailoverFigures } from './support/results';

jest.setTimeout(90_000);

const MESSAGES = 600;

function rabbitVersion(): string {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'rabbitmq-server']).toString();
    return out.replace(/-.*$/, '');
  } catch {
    return '3.x';
  }
}

describeWithBinaries(
  'RabbitMQ (one node, rabbitmq_mqtt)',
  ['rabbitmq-server', 'epmd'],
  'apt-get install -y rabbitmq-server',
  () => {
    let rabbit: RabbitMqNode;
    let features: BrokerFeatures;
    const failover: FailoverFigures[] = [];
    const module: string[] = [];

    beforeAll(async () => {
      rabbit = await startRabbitMq();
    });

    afterAll(async () => {
      await rabbit?.stop();
      if (!features) return;
      writeResult({
        id: 'rabbitmq',
        name: `RabbitMQ ${rabbitVersion()}, 1 node, rabbitmq_mqtt`,
        measuredAt: new Date().toISOString(),
        features,
        takeover: 'not measured (one node); the session survived a node restart',
        failover,
        module,
      });
    });

    it('supports retained messages; closes an MQTT 5 CONNECT without CONNACK; $share delivers nothing', async () => {
      features = await measureFeatures([rabbit.node.url]);
      expect(features.retained.ok).toBe(true);
      expect(features.mqtt5).toEqual({ ok: false, detail: 'connection closed without CONNACK' });
      expect(features.shared).toEqual({ ok: false, detail: 'accepted, delivers nothing' });
    });

    it('MQTT 5 closed without CONNACK: the bootstrap error says to set MQTT_PROTOCOL_VERSION=MQTTv311', async () => {
      const error = await mqtt5BootstrapError(rabbit.node);
      expect(error.message).toContain(
        'does not support MQTT 5. Set MQTT_PROTOCOL_VERSION=MQTTv311',
      );
      module.push('MQTT 5: bootstrap error naming MQTT_PROTOCOL_VERSION=MQTTv311');
    });

    it('MQTT_PROBE_SHARED: a replica with MQTT_SHARED_GROUP fails its bootstrap naming the key', async () => {
      const error = await sharedProbeError([rabbit.node]);
      expect(error.message).toContain('Unset MQTT_SHARED_GROUP');
      module.push(
        'Shared subscriptions: MQTT_PROBE_SHARED=true fails the bootstrap naming MQTT_SHARED_GROUP',
      );
    });

    it(`node SIGKILLed mid-stream and restarted: the app's session resumes; no QoS 1 message the broker acknowledged is lost`, async () => {
      const result = await runFailover({
        nodes: [rabbit.node],
        publishTo: rabbit.node,
        messages: MESSAGES,
        killAfter: MESSAGES / 3,
        quietMs: 5000,
        publishWithinMs: 45_000,
        kill: async () => {
          await rabbit.node.kill();
          await rabbit.restart();
        },
      });
      failover.push({
        scenario: 'app and publisher on the node, node SIGKILLed and restarted',
        published: result.published,
        lost: result.lost.length,
        duplicates: result.duplicates,
        reconnectMs: result.reconnectMs,
        publisherResets: result.publisherResets,
        asserted: true,
      });
      expect(result.published).toBe(MESSAGES);
      // RabbitMQ PUBACKs a QoS 1 PUBLISH once the message is on disk (publisher confirms).
      expectNoLoss(result);
    });
  },
);

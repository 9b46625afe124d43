/**
 * A 3-node NATS cluster (`nats-server` with cluster routes, JetStream and the MQTT listener) on
 * free 127.0.0.1 ports with temp store directories. MQTT sessions live in JetStream streams: with
 * `stream_replicas`/`consumer_replicas` 3 every node holds them, so one node may die.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { findExecutable } from '../../support/mosquitto';
import { freePort } from '../../support/ports';
import { trackChild, trackTempDir } from '../../support/processes';
import { uid } from '../../support/ids';
import { brokerNode, waitForMqtt, type BrokerNode } from './broker-node';

/** Options of {@link startNatsCluster}. */
export interface NatsClusterOptions {
  /** Nodes, 3 by default (JetStream needs a majority of them alive). */
  readonly nodes?: number;
  /**
   * Seconds after which NATS redelivers a QoS 1 message not acknowledged (e.g. sent to a node
   * that died before the PUBACK came back). NATS's default is 30; 3 by default here.
   */
  readonly ackWait?: number;
}

/** A running NATS cluster. */
export interface NatsCluster {
  readonly nodes: readonly BrokerNode[];
  /** Stops every node still running. */
  stop(): Promise<void>;
}

/** Starts the cluster and resolves once every node answers MQTT CONNECTs. */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const binary = findExecutable('nats-server');
  if (!binary) throw new Error('nats-server not found (apt-get install -y nats-server)');
  const count = options.nodes ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'nats-cluster-'));
  trackTempDir(dir);
  const id = uid('c');
  const ports = await Promise.all(
    Array.from({ length: count }, async () => ({
      client: await freePort(),
      route: await freePort(),
      mqtt: await freePort(),
    })),
  );
  const nodes: BrokerNode[] = [];
  for (const [index, port] of ports.entries()) {
    const name = `${id}-n${index + 1}`;
    const routes = ports
      .filter((p) => p !== port)
      .map((p) => `nats-route://127.0.0.1:${p.route}`)
      .join(', ');
    const config = join(dir, `${name}.conf`);
    await writeFile(
      config,
      [
        `server_name: "${name}"`,
        `listen: "127.0.0.1:${port.client}"`,
        `jetstream { store_dir: "${join(dir, name)}", max_memory_store: 64MB, max_file_store: 512MB }`,
        `cluster { name: "${id}", listen: "127.0.0.1:${port.route}", routes: [ ${routes} ] }`,
        `mqtt { listen: "127.0.0.1:${port.mqtt}", stream_replicas: ${count}, consumer_replicas: ${count}, ack_wait: "${options.ackWait ?? 3}s" }`,
        '',
      ].join('\n'),
    );
    const child = spawn(binary, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    nodes.push(brokerNode(name, port.mqtt, child));
  }
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    await Promise.all(nodes.map((n) => waitForMqtt(n, 30_000)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, stop };
}

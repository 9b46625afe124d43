/**
 * A RabbitMQ node of the test's own (own node name, ports, Erlang cookie, epmd port and temp
 * dirs) with the `rabbitmq_mqtt` plugin on and management off. The Erlang VM runs as the direct
 * child (RUNNING_UNDER_SYSTEMD makes the start script exec it), so SIGKILL kills the node.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { findExecutable } from '../../support/mosquitto';
import { freePort } from '../../support/ports';
import { trackChild, trackTempDir } from '../../support/processes';
import { uid } from '../../support/ids';
import { brokerNode, waitForMqtt, type BrokerNode } from './broker-node';

const execFileAsync = promisify(execFile);
/** The start script that execs the Erlang VM (Debian's /usr/sbin one may switch user first). */
const SERVER_SCRIPTS = ['/usr/lib/rabbitmq/bin/rabbitmq-server', 'rabbitmq-server'];

/** A RabbitMQ node that can be killed and started again on the same ports and data. */
export interface RabbitMqNode {
  /** The node now (a new child process after {@link RabbitMqNode.restart}). */
  readonly node: BrokerNode;
  /** Starts the node again (after a kill) and resolves once it answers MQTT. */
  restart(): Promise<BrokerNode>;
  stop(): Promise<void>;
}

/** Starts the node; resolves once it answers MQTT CONNECTs (about 12 s). */
export async function startRabbitMq(): Promise<RabbitMqNode> {
  const script = SERVER_SCRIPTS.map((s) => (isExecutable(s) ? s : findExecutable(s))).find(
    (s) => s !== undefined,
  );
  if (!script) throw new Error('rabbitmq-server not found (apt-get install -y rabbitmq-server)');
  const dir = await mkdtemp(join(tmpdir(), 'rabbitmq-'));
  trackTempDir(dir);
  const [nodePort, distPort, mqttPort, epmdPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const name = uid('rabbit');
  await mkdir(join(dir, 'home'));
  await writeFile(join(dir, 'home', '.erlang.cookie'), uid('cookie').repeat(2), { mode: 0o400 });
  await writeFile(join(dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
  await writeFile(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${nodePort}`,
      `mqtt.listeners.tcp.default = 127.0.0.1:${mqttPort}`,
      'mqtt.allow_anonymous = true',
      'loopback_users = none',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: join(dir, 'home'),
    RUNNING_UNDER_SYSTEMD: 'true',
    RABBITMQ_NODENAME: `${name}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(nodePort),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, 'plugins-expand'),
  };
  const launch = async (): Promise<BrokerNode> => {
    const child = spawn(script, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    const node = brokerNode(name, mqttPort, child);
    await waitForMqtt(node, 60_000);
    return node;
  };
  let current = await launch().catch(async (error: unknown) => {
    await stopEpmd(epmdPort);
    throw error;
  });
  return {
    get node() {
      return current;
    },
    restart: async () => {
      current = await launch();
      return current;
    },
    stop: async () => {
      await current.stop();
      await stopEpmd(epmdPort);
    },
  };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Stops the epmd that the node's Erlang VM started on its private port. */
async function stopEpmd(port: number): Promise<void> {
  const epmd = findExecutable('epmd');
  if (!epmd) return;
  await execFileAsync(epmd, ['-port', String(port), '-kill']).catch(() => undefined);
}

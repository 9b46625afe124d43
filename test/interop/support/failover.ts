/**
 * The failover scenario of every cluster: an app (the module, or a plain MQTT.js client for
 * comparison) with a persistent session on node A and the list of every node; a publisher on
 * node B sends numbered QoS 1 messages; node A is SIGKILLed mid-stream; the app fails over; the
 * numbers that came out are counted.
 */
import { connectAsync } from 'mqtt';

import { closeApp, startMqttApp } from '../../support/app';
import { closeClient, connectClient } from '../../support/clients';
import { randomClientId, uid } from '../../support/ids';
import { delay } from '../../support/wait';
import type { BrokerNode } from './broker-node';
import { publishSequence, sequenceHandler, SequenceSink, type Tally } from './counting';

/** Options of {@link runFailover}. */
export interface FailoverOptions {
  /** The app's broker list, in order: the first is node A, the one killed. */
  readonly nodes: readonly BrokerNode[];
  /** Node B, where the publisher is. */
  readonly publishTo: BrokerNode;
  readonly messages: number;
  /** Node A is killed once this many numbers arrived. */
  readonly killAfter: number;
  /** Counting stops when no new number arrived for this long (ms) after the last publish. */
  readonly quietMs: number;
  /** The module (default), or a plain MQTT.js client with the same `servers` rotation. */
  readonly client?: 'module' | 'mqtt.js';
  /** Kills node A; SIGKILL by default. */
  readonly kill?: () => Promise<void>;
  /** Unacknowledged publishes at a time; 20 by default. */
  readonly window?: number;
  /** Publishing stops after this long (ms), 30 s by default: only acknowledged numbers count. */
  readonly publishWithinMs?: number;
  /** The app's client id; random by default. */
  readonly clientId?: string;
  /** The topic; random by default. */
  readonly topic?: string;
}

/** What {@link runFailover} measured. */
export interface FailoverResult extends Tally {
  /** The module's `status().broker` at the end (undefined for the plain MQTT.js client). */
  readonly brokerAfter: string | undefined;
  /** The port the app was connected to at the end. */
  readonly portAfter: number | undefined;
  /** Milliseconds from the kill until the app was connected again. */
  readonly reconnectMs: number;
  /** Times the publisher dropped its connection to get PUBACKs it waited for in vain. */
  readonly publisherResets: number;
  /** The module's log lines, with milliseconds since the start (for failure messages). */
  readonly logs: readonly string[];
  /** The port of each (re)connect after the first. */
  readonly connects: readonly number[];
}

/** Runs the scenario; never throws for a loss: the figures are the result. */
export async function runFailover(options: FailoverOptions): Promise<FailoverResult> {
  const { nodes, publishTo, messages } = options;
  const [nodeA] = nodes;
  const topic = options.topic ?? `interop/${uid('seq')}`;
  const clientId = options.clientId ?? randomClientId('failover');
  const sink = new SequenceSink();
  const list = nodes.map((n) => `mqtt://127.0.0.1:${n.port}`).join(',');

  let connected: () => boolean;
  let port: () => number | undefined;
  let close: () => Promise<void>;
  let brokerNow: () => string | undefined = () => undefined;
  const connects: number[] = [];
  const logs: string[] = [];
  const started = Date.now();
  if ((options.client ?? 'module') === 'module') {
    const app = await startMqttApp({
      options: {
        MQTT_BROKER_URL: list,
        MQTT_CLIENT_ID: clientId,
        MQTT_CLEAN_SESSION: false,
        MQTT_KEEPALIVE: 5,
        MQTT_RECONNECT_PERIOD: 1,
        MQTT_RECONNECT_MAX_PERIOD: 2,
      },
      providers: [sequenceHandler(topic, sink)],
    });
    app.mqtt.events$.subscribe((e) => {
      if (e.type === 'connect') connects.push(app.mqtt.client.options.port ?? 0);
      if (e.type === 'log') logs.push(`${Date.now() - started} ms ${e.level}: ${e.message}`);
      if (e.type === 'reconnect' || e.type === 'close' || e.type === 'error') {
        const detail = e.type === 'error' ? ` ${e.error.message}` : '';
        logs.push(
          `${Date.now() - started} ms event: ${e.type}${detail} (port ${app.mqtt.client.options.port})`,
        );
      }
    });
    connected = () => app.mqtt.connected;
    brokerNow = () => app.mqtt.status().broker;
    port = () => app.mqtt.client.options.port;
    close = () => closeApp(app.app);
  } else {
    const client = await connectAsync(`mqtt://127.0.0.1:${nodeA.port}`, {
      clientId,
      clean: false,
      keepalive: 5,
      reconnectPeriod: 1000,
      servers: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    });
    client.on('message', (_topic, payload) => sink.record(payload));
    client.on('connect', () => connects.push(client.options.port ?? 0));
    await client.subscribeAsync(topic, { qos: 1 });
    connected = () => client.connected;
    port = () => client.options.port;
    close = () => closeClient(client);
  }

  // A PUBACK the killed node owed may never come (NATS: a stream leader on node A): MQTT 3.1.1
  // resends unacknowledged PUBLISHes only on a new connection, so a publisher that hears nothing
  // for 3 s drops its connection and resends them (duplicates, counted).
  const publisher = await connectClient(publishTo.url, { keepalive: 5, reconnectPeriod: 500 });
  let lastAckAt = Date.now();
  let publisherResets = 0;
  const unstick = setInterval(() => {
    if (publisher.connected && Date.now() - lastAckAt > 3000) {
      publisherResets++;
      lastAckAt = Date.now();
      publisher.stream.destroy();
    }
  }, 250);
  let killedAt = 0;
  let reconnectMs = -1;
  let killing: Promise<void> | undefined;
  let watch: NodeJS.Timeout | undefined;
  let sawOffline = false;
  const kill = options.kill ?? (() => nodeA.kill());
  try {
    const acknowledged = await publishSequence(publisher, topic, messages, {
      window: options.window,
      deadline: Date.now() + (options.publishWithinMs ?? 30_000),
      onProgress: () => {
        lastAckAt = Date.now();
        if (!killing && sink.distinct >= options.killAfter) {
          killedAt = Date.now();
          killing = kill().then(() => {
            // A SIGKILLed node's sockets are reset at once: wait for the client to notice.
            const lost = Date.now();
            watch = setInterval(() => {
              if (!connected()) sawOffline = true;
              if (reconnectMs < 0 && (sawOffline || Date.now() - lost > 1000) && connected()) {
                reconnectMs = Date.now() - killedAt;
              }
            }, 10);
          });
        }
      },
    });
    clearInterval(unstick);
    logs.push(
      `${Date.now() - started} ms test: ${acknowledged.size} acknowledged, ${sink.distinct} handled`,
    );
    await killing;
    let last = sink.distinct;
    let lastChange = Date.now();
    while (sink.distinct < acknowledged.size && Date.now() - lastChange < options.quietMs) {
      await delay(100);
      if (sink.distinct !== last) {
        last = sink.distinct;
        lastChange = Date.now();
      }
    }
    logs.push(`${Date.now() - started} ms test: counting ends, ${sink.distinct} handled`);
    // Every message may be counted before the 10 ms watch saw the new connection: look again,
    // for as long as a reconnect to a cluster still electing leaders can take.
    const settleUntil = Date.now() + 15_000;
    while (killedAt > 0 && reconnectMs < 0 && Date.now() < settleUntil) {
      if (connected()) reconnectMs = Date.now() - killedAt;
      else await delay(10);
    }
    return {
      ...sink.tally(acknowledged),
      portAfter: port(),
      brokerAfter: brokerNow(),
      reconnectMs,
      connects,
      publisherResets,
      logs,
    };
  } finally {
    clearInterval(unstick);
    clearInterval(watch);
    await closeClient(publisher);
    await close();
  }
}

/**
 * Fails with the module's log when the app did not reconnect, or with the lost numbers when
 * anything acknowledged was lost.
 */
export function expectNoLoss(result: FailoverResult): void {
  if (result.reconnectMs < 0) {
    throw new Error(`the app did not reconnect; module log:\n${result.logs.join('\n')}`);
  }
  if (result.lost.length === 0) return;
  const range = `${result.lost[0]}..${result.lost[result.lost.length - 1]}`;
  throw new Error(
    `${result.lost.length} of ${result.published} lost (${range}); module log:\n${result.logs.join('\n')}`,
  );
}

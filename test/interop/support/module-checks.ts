/**
 * The module against what a broker lacks, through its public API: an MQTT 5 CONNECT the broker
 * refuses, shared subscriptions that deliver nothing (MQTT_PROBE_SHARED), QoS 2 above
 * MQTT_MAX_QOS; and three replicas sharing one group.
 */
import {
  MqttConnectionError,
  MqttPublishError,
  MqttSubscribeError,
  type MqttModuleOptions,
} from 'nestjs-mqtt';

import { closeApp, compileMqttApp, startMqttApp, type MqttTestApp } from '../../support/app';
import { randomClientId, uid } from '../../support/ids';
import { rejectionOf } from '../../support/wait';
import type { BrokerNode } from './broker-node';
import { sequenceHandler, SequenceSink } from './counting';

/** The module's options for `node`. */
export function brokerOptions(nodes: readonly BrokerNode[]): MqttModuleOptions {
  return {
    MQTT_BROKER_URL: nodes.map((n) => `mqtt://127.0.0.1:${n.port}`).join(','),
    MQTT_CONNECTION_TIMEOUT: 5,
  };
}

/** Bootstraps with MQTT 5 and returns the error (the broker refuses MQTT 5). */
export async function mqtt5BootstrapError(node: BrokerNode): Promise<Error> {
  const app = await compileMqttApp({
    options: { ...brokerOptions([node]), MQTT_PROTOCOL_VERSION: 'MQTTv5' },
  });
  const error = await rejectionOf(app.app.init());
  await closeApp(app.app);
  expect(error).toBeInstanceOf(MqttConnectionError);
  return error;
}

/**
 * Starts replicas one by one with MQTT_SHARED_GROUP and MQTT_PROBE_SHARED=true and returns the
 * error of the first whose bootstrap fails (the broker delivers nothing through `$share`).
 */
export async function sharedProbeError(nodes: readonly BrokerNode[]): Promise<Error> {
  const app = await compileMqttApp({
    options: {
      ...brokerOptions(nodes),
      MQTT_SHARED_GROUP: uid('workers'),
      MQTT_PROBE_SHARED: true,
    },
    providers: [sequenceHandler(`interop/${uid('jobs')}`, new SequenceSink())],
  });
  const error = await rejectionOf(app.app.init());
  await closeApp(app.app);
  expect(error).toBeInstanceOf(MqttSubscribeError);
  return error;
}

/** Three replicas in one group, each with its own client id, probing shared subscriptions. */
export async function startReplicas(
  nodes: readonly BrokerNode[],
  topic: string,
): Promise<{ apps: MqttTestApp[]; sinks: SequenceSink[]; close(): Promise<void> }> {
  const group = uid('workers');
  const apps: MqttTestApp[] = [];
  const sinks: SequenceSink[] = [];
  for (let i = 0; i < 3; i++) {
    const sink = new SequenceSink();
    sinks.push(sink);
    apps.push(
      await startMqttApp({
        options: {
          // Each replica starts on another node of the list.
          ...brokerOptions([...nodes.slice(i % nodes.length), ...nodes.slice(0, i % nodes.length)]),
          MQTT_CLIENT_ID: randomClientId(`replica-${i}`),
          MQTT_SHARED_GROUP: group,
          MQTT_PROBE_SHARED: true,
        },
        providers: [sequenceHandler(topic, sink)],
      }),
    );
  }
  return {
    apps,
    sinks,
    close: async () => void (await Promise.all(apps.map((a) => closeApp(a.app)))),
  };
}

/** With MQTT_MAX_QOS=1 a QoS 2 publish is refused by the module, and the connection stays up. */
export async function qos2RefusedByModule(node: BrokerNode): Promise<Error> {
  const app = await startMqttApp({ options: { ...brokerOptions([node]), MQTT_MAX_QOS: 1 } });
  try {
    const error = await rejectionOf(app.mqtt.publish(`interop/${uid('q2')}`, 'x', { qos: 2 }));
    expect(error).toBeInstanceOf(MqttPublishError);
    await app.mqtt.publish(`interop/${uid('q1')}`, 'x', { qos: 1 });
    expect(app.mqtt.connected).toBe(true);
    return error;
  } finally {
    await closeApp(app.app);
  }
}

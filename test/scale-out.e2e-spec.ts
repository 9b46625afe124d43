/**
 * Scale-out through the broker's shared subscriptions: three replicas of one app, each in its own
 * process with MQTT_SHARED_GROUP=workers, split 300 QoS 1 messages so that each is handled exactly
 * once and every replica gets some; a handler with its own `share` group splits too, and one
 * with `share: false` still gets every message in every replica.
 */
import type { MqttClient } from 'mqtt';
import {
  closeClient,
  connectClient,
  describeWithMosquitto,
  startMosquitto,
  type MosquittoBroker,
} from './support';
import { startChildApp, type ChildApp } from './fixtures/reliability-helpers';

const ITEMS = 300;
const BROADCASTS = 5;

describeWithMosquitto('shared subscriptions across three replicas (mosquitto)', () => {
  let broker: MosquittoBroker;
  let publisher: MqttClient;
  const replicas: ChildApp[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    publisher = await connectClient(broker.url);
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    if (publisher) await closeClient(publisher);
    await broker?.stop();
  });

  it('300 QoS 1 messages are each handled exactly once, by all three replicas; share:false gets all in each', async () => {
    const clientIds = [0, 1, 2].map((i) => `h7-worker-${i}-${process.pid}`);
    for (const clientId of clientIds) {
      replicas.push(
        startChildApp('reliability-worker.ts', {
          MQTT_BROKER_URL: '127.0.0.1',
          MQTT_BROKER_PORT: String(broker.port),
          MQTT_SHARED_GROUP: 'workers',
          MQTT_CLIENT_ID: clientId,
        }),
      );
    }
    const ready = await Promise.all(
      replicas.map((r) => r.waitFor((e) => e.event === 'ready', 'ready', 20_000)),
    );
    for (const r of ready) {
      expect([...(r.topics as string[])].sort()).toEqual([
        '$share/auditors/work/audit',
        '$share/workers/work/items',
        'work/broadcast',
      ]);
    }

    await Promise.all(
      Array.from({ length: ITEMS }, (_, id) =>
        publisher.publishAsync('work/items', String(id), { qos: 1 }),
      ),
    );
    const AUDITS = 30;
    await Promise.all(
      Array.from({ length: AUDITS }, (_, id) =>
        publisher.publishAsync('work/audit', String(id), { qos: 1 }),
      ),
    );
    // Published after the items: once a replica has every broadcast, it has had all its items.
    for (let id = 0; id < BROADCASTS; id++) {
      await publisher.publishAsync('work/broadcast', String(id), { qos: 1 });
    }
    await Promise.all(
      replicas.map((r) =>
        r.waitFor((e) => e.event === 'broadcast' && e.id === BROADCASTS - 1, 'the last broadcast'),
      ),
    );

    const perReplica = replicas.map((r) =>
      r.events.filter((e) => e.event === 'item').map((e) => e.id as number),
    );
    const all = perReplica.flat().sort((a, b) => a - b);
    console.info(`scale-out: items per replica ${perReplica.map((p) => p.length).join(' / ')}`);
    expect(all).toEqual(Array.from({ length: ITEMS }, (_, id) => id));
    for (const items of perReplica) expect(items.length).toBeGreaterThan(0);
    const audits = replicas
      .flatMap((r) => r.events.filter((e) => e.event === 'audit').map((e) => e.id as number))
      .sort((a, b) => a - b);
    expect(audits).toEqual(Array.from({ length: AUDITS }, (_, id) => id));
    for (const r of replicas) {
      expect(r.events.filter((e) => e.event === 'broadcast').map((e) => e.id)).toEqual(
        Array.from({ length: BROADCASTS }, (_, id) => id),
      );
    }

    // What the broker saw: each replica holds the shared filter and the plain opt-out one.
    const log = broker.readLog();
    for (const id of clientIds) {
      expect(log).toContain(`${id} 1 $share/workers/work/items`);
      expect(log).toContain(`${id} 1 work/broadcast`);
    }
  }, 45_000);
});

/**
 * The MQTT_LAST_WILL_* keys: an app (test/fixtures/keys-will-app.ts) runs in a child process
 * against a real mosquitto and is SIGKILLed, so the broker sees the connection die without a
 * DISCONNECT and publishes the will; another client checks topic, payload, QoS and retain. A
 * clean `app.close()` must not publish the will.
 */
import type { MqttClient } from 'mqtt';
import {
  closeClient,
  collectMessages,
  connectClient,
  describeWithMosquitto,
  nextMessage,
  randomClientId,
  startMosquitto,
  terminate,
  waitForExit,
  type MessageCollector,
  type MosquittoBroker,
} from './support';
import {
  connectLinePattern,
  escapeRegExp,
  spawnKeysApp,
  waitForBrokerLog,
  type KeysChild,
} from './fixtures/keys-helpers';

// Jest applies the global testTimeout (5 s), not the e2e project's 30 s of jest.config.js; these
// suites restart brokers and spawn apps, on a busy 2-core machine.
jest.setTimeout(30_000);

const FIXTURE = 'keys-will-app.ts';

describeWithMosquitto('MQTT_LAST_WILL_* keys on the wire (child app killed)', () => {
  let broker: MosquittoBroker;
  let watcher: MqttClient;
  let wills: MessageCollector;
  const children: KeysChild[] = [];

  const spawnWithWill = async (options: Record<string, string>, numberMessage = false) => {
    const child = await spawnKeysApp(FIXTURE, {
      KEYS_FIXTURE_OPTIONS: JSON.stringify({
        MQTT_BROKER_URL: '127.0.0.1',
        MQTT_BROKER_PORT: String(broker.port),
        ...options,
      }),
      ...(numberMessage ? { KEYS_WILL_NUMBER: '1' } : {}),
    });
    children.push(child);
    await waitForBrokerLog(broker, connectLinePattern(child.clientId));
    return child;
  };
  const onTopic = (topic: string) => wills.messages.filter((m) => m.topic === topic);

  beforeAll(async () => {
    broker = await startMosquitto();
    watcher = await connectClient(broker.url);
    wills = await collectMessages(watcher, 'will/#', { qos: 2 });
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => terminate(c.proc, 'SIGKILL')));
    wills?.stop();
    if (watcher) await closeClient(watcher);
    await broker?.stop();
  });

  it('MQTT_LAST_WILL_TOPIC + MQTT_LAST_WILL_MESSAGE + MQTT_LAST_WILL_QOS=1: a SIGKILLed app’s will arrives with that payload and QoS, not retained', async () => {
    const topic = `will/plain/${randomClientId('t')}`;
    const child = await spawnWithWill({
      MQTT_CLIENT_ID: randomClientId('will-a'),
      MQTT_LAST_WILL_TOPIC: topic,
      MQTT_LAST_WILL_MESSAGE: 'app-a went away',
      MQTT_LAST_WILL_QOS: '1',
    });
    child.proc.kill('SIGKILL');

    await wills.waitFor(1, 5000);
    const [will] = onTopic(topic);
    expect(will.payload.toString()).toBe('app-a went away');
    expect(will.packet.qos).toBe(1);
    expect(will.packet.retain).toBe(false);

    // MQTT_LAST_WILL_RETAIN unset: a late subscriber gets nothing retained, only what comes next.
    const late = await connectClient(broker.url);
    try {
      // A retained message would be sent right after the SUBACK, so before the marker.
      const inbox = await collectMessages(late, topic);
      await watcher.publishAsync(topic, 'marker', { qos: 1 });
      const [first] = await inbox.waitFor(1);
      expect(first.payload.toString()).toBe('marker');
      expect(first.packet.retain).toBe(false);
    } finally {
      await closeClient(late);
    }
  });

  it('MQTT_LAST_WILL_RETAIN=true + MQTT_LAST_WILL_QOS=2: the will is retained, so a subscriber that comes later still gets it', async () => {
    const topic = `will/retained/${randomClientId('t')}`;
    const child = await spawnWithWill({
      MQTT_CLIENT_ID: randomClientId('will-b'),
      MQTT_LAST_WILL_TOPIC: topic,
      MQTT_LAST_WILL_MESSAGE: 'app-b is gone',
      MQTT_LAST_WILL_QOS: '2',
      MQTT_LAST_WILL_RETAIN: 'true',
    });
    const before = wills.messages.length;
    child.proc.kill('SIGKILL');
    await wills.waitFor(before + 1, 5000);
    const [live] = onTopic(topic);
    expect(live.payload.toString()).toBe('app-b is gone');
    expect(live.packet.qos).toBe(2);

    const late = await connectClient(broker.url);
    try {
      const retained = await nextMessage(late, topic, { qos: 2 });
      expect(retained.payload.toString()).toBe('app-b is gone');
      expect(retained.packet.retain).toBe(true);
      expect(retained.packet.qos).toBe(2);
    } finally {
      await watcher.publishAsync(topic, '', { qos: 1, retain: true }); // clear it
      await closeClient(late);
    }
  });

  it('MQTT_LAST_WILL_MESSAGE given as the number 42 in forRoot() arrives as the text "42"', async () => {
    const topic = `will/number/${randomClientId('t')}`;
    const child = await spawnWithWill(
      { MQTT_CLIENT_ID: randomClientId('will-c'), MQTT_LAST_WILL_TOPIC: topic },
      true,
    );
    const before = wills.messages.length;
    child.proc.kill('SIGKILL');
    await wills.waitFor(before + 1, 5000);
    const [will] = onTopic(topic);
    expect(will.payload).toEqual(Buffer.from('42'));
    expect(will.packet.qos).toBe(0);
    expect(will.packet.retain).toBe(false);
  });

  it('MQTT_LAST_WILL_TOPIC set but a clean app.close(): the broker gets a DISCONNECT and publishes no will', async () => {
    const topic = `will/clean/${randomClientId('t')}`;
    const id = randomClientId('will-d');
    const child = await spawnWithWill({
      MQTT_CLIENT_ID: id,
      MQTT_LAST_WILL_TOPIC: topic,
      MQTT_LAST_WILL_MESSAGE: 'should never be sent',
      MQTT_LAST_WILL_QOS: '1',
    });
    child.proc.kill('SIGTERM'); // the fixture answers with app.close()
    expect(await waitForExit(child.proc, 10_000)).toBe(true);
    expect(child.proc.exitCode).toBe(0);
    await waitForBrokerLog(broker, new RegExp(`Client ${escapeRegExp(id)} disconnected\\.`));

    // Anything the broker sent on the topic for that disconnect comes before this marker.
    const before = wills.messages.length;
    await watcher.publishAsync(topic, 'marker', { qos: 1 });
    await wills.waitFor(before + 1);
    expect(onTopic(topic).map((m) => m.payload.toString())).toEqual(['marker']);
  });
});

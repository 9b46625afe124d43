/**
 * Every general MQTT_* key, given as an env-style string to `MqttModule.forRoot()`, is shown to
 * take effect on the wire against a real mosquitto: what the broker logged, what other clients
 * received, or how the connection failed. TLS, last will and transport keys have their own
 * suites; the last test here checks that every key of the config table has a wire test.
 */
import { Injectable } from '@nestjs/common';
import { MqttConnectionError, Subscribe } from 'nestjs-mqtt';
import type { MqttClient } from 'mqtt';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { MQTT_CONFIG_KEY_TABLE } from '../libs/mqtt/src/config';
import {
  closeClient,
  collectMessages,
  connectClient,
  delay,
  describeWithMosquitto,
  freePort,
  randomClientId,
  startMosquitto,
  until,
  waitForState,
  type MosquittoBroker,
} from './support';
import {
  KEY_SUITES,
  connectLinePattern,
  escapeRegExp,
  failedBootstrap,
  keysAppStarter,
  startKeysApp,
  testTitles,
  waitForBrokerLog,
  type KeysApp,
} from './fixtures/keys-helpers';

// Jest applies the global testTimeout (5 s), not the e2e project's 30 s of jest.config.js; these
// suites restart brokers and spawn apps, on a busy 2-core machine.
jest.setTimeout(30_000);

const BUSY_MS = 1500;

@Injectable()
class PersistWorker {
  readonly received: string[] = [];
  @Subscribe('keys/persist/+', { qos: 1 })
  onMessage(payload: Buffer, topic: string) {
    this.received.push(`${topic}=${payload.toString()}`);
  }
}

@Injectable()
class SharedWorker {
  readonly received: string[] = [];
  @Subscribe('keys/shared/+', { qos: 1 })
  onMessage(payload: Buffer) {
    this.received.push(payload.toString());
  }
}

@Injectable()
class FailingWorker {
  @Subscribe('keys/dlq/in', { qos: 1 })
  onMessage(payload: Buffer): void {
    throw new Error(`cannot handle ${payload.toString()}`);
  }
}

@Injectable()
class StuckWorker {
  started = 0;
  @Subscribe('keys/stuck', { qos: 1 })
  onMessage(): Promise<void> {
    this.started++;
    return new Promise<void>(() => undefined);
  }
}

@Injectable()
class BackgroundWorker {
  readonly received: string[] = [];
  @Subscribe('keys/background')
  onMessage(payload: Buffer) {
    this.received.push(payload.toString());
  }
}

describeWithMosquitto('MQTT_* keys on the wire (mosquitto)', () => {
  let broker: MosquittoBroker;
  let authBroker: MosquittoBroker;
  let flakyBroker: MosquittoBroker;
  let observer: MqttClient;
  const { start, closeAll } = keysAppStarter();
  const plain = () => ({ MQTT_BROKER_URL: '127.0.0.1', MQTT_BROKER_PORT: String(broker.port) });

  beforeAll(async () => {
    [broker, authBroker, flakyBroker] = await Promise.all([
      startMosquitto(),
      startMosquitto({ users: { alice: 'wonder-land-7' } }),
      startMosquitto(),
    ]);
    observer = await connectClient(broker.url);
  });

  afterEach(() => closeAll());

  afterAll(async () => {
    if (observer) await closeClient(observer);
    await Promise.all([broker, authBroker, flakyBroker].map((b) => b?.stop()));
  });

  it('MQTT_CLIENT_ID: the broker sees exactly the configured client id', async () => {
    const id = randomClientId('keys-id');
    const { mqtt } = await start({ ...plain(), MQTT_CLIENT_ID: id });
    expect(mqtt.clientId).toBe(id);
    await waitForBrokerLog(broker, connectLinePattern(id));
  });

  it("MQTT_CLIENT_ID='' (empty): the broker sees a generated nestjs-mqtt-<12 hex> id", async () => {
    const { mqtt } = await start({ ...plain(), MQTT_CLIENT_ID: '' });
    expect(mqtt.clientId).toMatch(/^nestjs-mqtt-[0-9a-f]{12}$/);
    await waitForBrokerLog(broker, connectLinePattern(mqtt.clientId));
  });

  it("MQTT_BROKER_URL as a bare host name ('localhost') with MQTT_BROKER_PORT reaches the broker", async () => {
    const id = randomClientId('keys-host');
    const { mqtt } = await start({
      MQTT_BROKER_URL: 'localhost',
      MQTT_BROKER_PORT: String(broker.port),
      MQTT_CLIENT_ID: id,
    });
    expect(mqtt.connected).toBe(true);
    await waitForBrokerLog(
      broker,
      new RegExp(`New client connected from 127\\.0\\.0\\.1:\\d+ as ${escapeRegExp(id)} `),
    );
  });

  it('MQTT_BROKER_URL as an mqtt://host:port URL reaches the broker and carries messages', async () => {
    const id = randomClientId('keys-url');
    const { mqtt } = await start({ MQTT_BROKER_URL: broker.url, MQTT_CLIENT_ID: id });
    await waitForBrokerLog(broker, connectLinePattern(id));
    const inbox = await collectMessages(observer, 'keys/url');
    try {
      await mqtt.publish('keys/url', 'via-url', { qos: 1 });
      const [message] = await inbox.waitFor(1);
      expect(message.payload.toString()).toBe('via-url');
    } finally {
      inbox.stop();
    }
  });

  it('MQTT_BROKER_PORT names the port dialled: a closed port fails with ECONNREFUSED at host:port', async () => {
    const closed = await freePort();
    const { error } = await failedBootstrap({
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(closed),
      MQTT_RECONNECT_PERIOD: '0',
    });
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect(error.message).toMatch(
      new RegExp(`^Cannot reach the MQTT broker at 127\\.0\\.0\\.1:${closed}: ECONNREFUSED`),
    );
  });

  it('MQTT_USERNAME + MQTT_PASSWORD: the right pair connects and the broker logs the user', async () => {
    const id = randomClientId('keys-auth');
    const { mqtt } = await start({
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(authBroker.port),
      MQTT_CLIENT_ID: id,
      MQTT_USERNAME: 'alice',
      MQTT_PASSWORD: 'wonder-land-7',
    });
    expect(mqtt.connected).toBe(true);
    const [, flags] = await waitForBrokerLog(authBroker, connectLinePattern(id));
    expect(flags).toContain("u'alice'");
  });

  it('MQTT_PASSWORD wrong: the broker refuses with CONNACK 5 and the error never shows the password', async () => {
    const { error } = await failedBootstrap({
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(authBroker.port),
      MQTT_USERNAME: 'alice',
      MQTT_PASSWORD: 'not-the-password',
      MQTT_RECONNECT_PERIOD: '0',
    });
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect((error as MqttConnectionError).code).toBe(5);
    expect(error.message).toContain('refused the connection: not authorized');
    expect(error.message).not.toContain('not-the-password');
  });

  it('MQTT_USERNAME unknown on MQTT 5: the broker refuses with reason code 135', async () => {
    const { error } = await failedBootstrap({
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(authBroker.port),
      MQTT_USERNAME: 'mallory',
      MQTT_PASSWORD: 'wonder-land-7',
      MQTT_PROTOCOL_VERSION: 'MQTTv5',
      MQTT_RECONNECT_PERIOD: '0',
    });
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect((error as MqttConnectionError).code).toBe(135);
    expect(error.message).not.toContain('wonder-land-7');
  });

  it('MQTT_KEEPALIVE=1: the broker logs k1 and then receives PINGREQs from the client', async () => {
    const id = randomClientId('keys-ka');
    await start({ ...plain(), MQTT_CLIENT_ID: id, MQTT_KEEPALIVE: '1' });
    const [, flags] = await waitForBrokerLog(broker, connectLinePattern(id));
    expect(flags.split(', ')).toContain('k1');
    await waitForBrokerLog(broker, new RegExp(`Received PINGREQ from ${escapeRegExp(id)}\\n`));
  });

  it('MQTT_CLEAN_SESSION=false with a fixed MQTT_CLIENT_ID: QoS 1 messages sent while the app was down arrive after its restart', async () => {
    const id = randomClientId('keys-persist');
    const options = { ...plain(), MQTT_CLIENT_ID: id, MQTT_CLEAN_SESSION: 'false' };

    const first = await startKeysApp(options, [PersistWorker]);
    const [, flags] = await waitForBrokerLog(broker, connectLinePattern(id));
    expect(flags.split(', ')).toContain('c0');
    await first.app.close();
    await waitForBrokerLog(broker, new RegExp(`Client ${escapeRegExp(id)} disconnected`));

    await observer.publishAsync('keys/persist/a', 'while-down-1', { qos: 1 });
    await observer.publishAsync('keys/persist/b', 'while-down-2', { qos: 1 });

    const second = await start(options, [PersistWorker]);
    const worker = second.app.get(PersistWorker);
    await until('the queued messages', () => worker.received.length >= 2);
    expect(worker.received).toEqual(['keys/persist/a=while-down-1', 'keys/persist/b=while-down-2']);
    expect(second.logs.mqtt('log')).toContain(`Connected to ${broker.url} (session resumed)`);
    expect(first.app.get(PersistWorker).received).toEqual([]);
  });

  describe('MQTT_CONNECTION_TIMEOUT against a TCP server that never answers', () => {
    let silent: Server;
    const sockets = new Set<Socket>();
    let port: number;
    let accepted = 0;
    beforeAll(async () => {
      silent = createServer((socket) => {
        accepted++;
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.once('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      port = (silent.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it('MQTT_CONNECTION_TIMEOUT=2: the bootstrap fails after about 2 s, saying no CONNACK came', async () => {
      const started = Date.now();
      const { error } = await failedBootstrap({
        MQTT_BROKER_URL: '127.0.0.1',
        MQTT_BROKER_PORT: String(port),
        MQTT_CONNECTION_TIMEOUT: '2',
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(error).toBeInstanceOf(MqttConnectionError);
      expect(error.message).toBe(
        `No CONNACK from the MQTT broker at 127.0.0.1:${port} within 2 s (MQTT_CONNECTION_TIMEOUT). Check the address, port, transport and TLS settings, or raise MQTT_CONNECTION_TIMEOUT.`,
      );
      expect(accepted).toBeGreaterThan(0); // it did reach the server: the wait was for CONNACK
    });
  });

  it('MQTT_RECONNECT_PERIOD=1 reconnects after a broker restart; MQTT_RECONNECT_PERIOD=0 stays offline', async () => {
    const base = { MQTT_BROKER_URL: '127.0.0.1', MQTT_BROKER_PORT: String(flakyBroker.port) };
    const retrying = await start({
      ...base,
      MQTT_CLIENT_ID: randomClientId('keys-rp1'),
      MQTT_RECONNECT_PERIOD: '1',
    });
    const giving = await start({
      ...base,
      MQTT_CLIENT_ID: randomClientId('keys-rp0'),
      MQTT_RECONNECT_PERIOD: '0',
    });
    const connects = (a: KeysApp) => a.events.filter((e) => e.type === 'connect').length;
    expect([connects(retrying), connects(giving)]).toEqual([1, 1]);

    await flakyBroker.restart();
    await until('the MQTT_RECONNECT_PERIOD=1 app to reconnect', () => connects(retrying) === 2);
    await waitForState(retrying.mqtt, 'connected');
    expect(retrying.events.some((e) => e.type === 'reconnect')).toBe(true);

    // The other app had the same chance and more: it must still be offline, never retrying.
    await delay(BUSY_MS);
    expect(giving.mqtt.state).toBe('offline');
    expect(giving.mqtt.connected).toBe(false);
    expect(connects(giving)).toBe(1);
    expect(giving.events.filter((e) => e.type === 'reconnect')).toEqual([]);
    expect(giving.logs.mqtt('warn')).toContain(
      `Connection to mqtt://127.0.0.1:${flakyBroker.port} lost; MQTT_RECONNECT_PERIOD is 0, so no reconnect will be attempted`,
    );
    const log = flakyBroker.readLog();
    const count = (id: string) => (log.match(new RegExp(connectLinePattern(id), 'g')) ?? []).length;
    expect(count(retrying.mqtt.clientId)).toBe(2);
    expect(count(giving.mqtt.clientId)).toBe(1);
  });

  it('MQTT_CONNECT_IN_BACKGROUND=true: the app starts while the broker is down and connects and subscribes once it is up', async () => {
    await flakyBroker.stop();
    const base = {
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(flakyBroker.port),
      MQTT_RECONNECT_PERIOD: '1',
    };
    // Without the key the same bootstrap fails.
    const { error } = await failedBootstrap(base);
    expect(error.message).toMatch(
      /^Cannot reach the MQTT broker at 127\.0\.0\.1:\d+: ECONNREFUSED/,
    );
    expect(error.message).toContain('MQTT_CONNECT_IN_BACKGROUND=true');

    const id = randomClientId('keys-bg');
    const background = await start(
      { ...base, MQTT_CLIENT_ID: id, MQTT_CONNECT_IN_BACKGROUND: 'true' },
      [BackgroundWorker],
    );
    expect(background.mqtt.connected).toBe(false);
    expect(background.logs.mqtt('warn').join('\n')).toMatch(
      /Could not connect to mqtt:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\); starting anyway because MQTT_CONNECT_IN_BACKGROUND is on/,
    );

    await flakyBroker.restart();
    await waitForState(background.mqtt, 'connected', 8000);
    await waitForBrokerLog(flakyBroker, connectLinePattern(id));
    await waitForBrokerLog(
      flakyBroker,
      new RegExp(
        `Received SUBSCRIBE from ${escapeRegExp(id)}\\n[^\\n]*\\tkeys/background \\(QoS 0\\)`,
      ),
    );
    const publisher = await connectClient(flakyBroker.url);
    try {
      await publisher.publishAsync('keys/background', 'late-hello');
      const worker = background.app.get(BackgroundWorker);
      await until('the handler to receive', () => worker.received.length > 0);
      expect(worker.received).toEqual(['late-hello']);
    } finally {
      await closeClient(publisher);
    }
  });

  it('MQTT_SHARED_GROUP: @Subscribe filters reach the broker as $share/<group>/… and still deliver', async () => {
    const id = randomClientId('keys-share');
    const { app, mqtt } = await start(
      { ...plain(), MQTT_CLIENT_ID: id, MQTT_SHARED_GROUP: 'workers' },
      [SharedWorker],
    );
    expect(mqtt.topics).toEqual(['$share/workers/keys/shared/+']);
    await waitForBrokerLog(
      broker,
      new RegExp(
        `Received SUBSCRIBE from ${escapeRegExp(id)}\\n[^\\n]*\\t\\$share/workers/keys/shared/\\+ \\(QoS 1\\)`,
      ),
    );
    await observer.publishAsync('keys/shared/1', 'to-the-group', { qos: 1 });
    const worker = app.get(SharedWorker);
    await until('the shared subscription to deliver', () => worker.received.length > 0);
    expect(worker.received).toEqual(['to-the-group']);
  });

  it('MQTT_DEAD_LETTER_TOPIC: a message whose handler throws is republished there with the error', async () => {
    const { logs } = await start({ ...plain(), MQTT_DEAD_LETTER_TOPIC: 'keys/dlq/out' }, [
      FailingWorker,
    ]);
    const dead = await collectMessages(observer, 'keys/dlq/out', { qos: 1 });
    try {
      await observer.publishAsync('keys/dlq/in', 'poison', { qos: 1 });
      const [message] = await dead.waitFor(1);
      expect(message.packet.qos).toBe(1);
      expect(JSON.parse(message.payload.toString())).toEqual({
        error: 'cannot handle poison',
        topic: 'keys/dlq/in',
        handler: 'FailingWorker.onMessage',
        payload: Buffer.from('poison').toString('base64'),
        payloadEncoding: 'base64',
      });
      expect(logs.mqtt('error').join('\n')).toContain(
        'Handler FailingWorker.onMessage failed for topic "keys/dlq/in": cannot handle poison',
      );
    } finally {
      dead.stop();
    }
  });

  it('MQTT_SHUTDOWN_TIMEOUT=1: app.close() returns after about 1 s and logs the abandoned handler', async () => {
    const id = randomClientId('keys-stuck');
    const { app, mqtt, logs } = await startKeysApp(
      { ...plain(), MQTT_CLIENT_ID: id, MQTT_SHUTDOWN_TIMEOUT: '1' },
      [StuckWorker],
    );
    const worker = app.get(StuckWorker);
    await observer.publishAsync('keys/stuck', 'never-done', { qos: 1 });
    await until('the handler to start', () => worker.started === 1);

    const closing = Date.now();
    await app.close();
    expect(Date.now() - closing).toBeGreaterThanOrEqual(900);
    expect(mqtt.state).toBe('closed');
    expect(logs.mqtt('log')).toContain('Waiting up to 1 s for 1 MQTT handler(s) still running');
    expect(logs.mqtt('warn')).toContain(
      '1 MQTT handler(s) still running at shutdown were abandoned (MQTT_SHUTDOWN_TIMEOUT); their QoS 1/2 messages stay unacknowledged and will be redelivered by a persistent session',
    );
    await waitForBrokerLog(broker, new RegExp(`Client ${escapeRegExp(id)} disconnected\\.`));
  });

  it('every key of MQTT_CONFIG_KEY_TABLE is named in a test title of the wire suites', () => {
    const root = join(__dirname, '..');
    const titles = KEY_SUITES.flatMap((file) => testTitles(root, file));
    const keys = Object.keys(MQTT_CONFIG_KEY_TABLE);
    expect(keys.length).toBeGreaterThan(20);
    const untested = keys.filter(
      (key) => !titles.some((title) => new RegExp(`\\b${key}\\b`).test(title)),
    );
    expect(untested).toEqual([]);
  });
});

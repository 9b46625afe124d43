/**
 * The broker connection against real brokers: connecting during bootstrap, refusals with the
 * broker's reason, unreachable and silent brokers, starting without a broker, reconnecting with
 * subscriptions restored and offline publishes delivered, and TCP_NODELAY on every socket.
 */
import { Injectable, type OnModuleInit, type Provider } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { connect, type MqttClient } from 'mqtt';
import net from 'node:net';
import { inspect } from 'node:util';
import {
  MqttConnectionError,
  MqttService,
  Subscribe,
  type MqttConnectionState,
  type MqttEvent,
  type MqttModuleOptions,
} from 'nestjs-mqtt';
import { filter, firstValueFrom } from 'rxjs';
import {
  aedesClient,
  closeClient,
  closeApp,
  compileMqttApp,
  delay,
  describeWithMosquitto,
  freePort,
  mosquittoPub,
  rejectionOf,
  startAedes,
  startMosquitto,
  uid,
  until,
  waitForState,
  type AedesBroker,
  type MosquittoBroker,
} from './support';

const PASSWORD = 's3cr3t-PASSWORD-xyz';

describe('the broker connection', () => {
  let aedes: AedesBroker;
  const open: TestingModule[] = [];

  beforeAll(async () => {
    aedes = await startAedes();
  });
  afterAll(() => aedes.stop());
  afterEach(async () => {
    await Promise.all(open.splice(0).map((app) => closeApp(app)));
  });

  /** Compiles (does not init) an app; closed after the test. */
  async function compile(options: MqttModuleOptions, providers: Provider[] = []) {
    const { app, mqtt, logger } = await compileMqttApp({
      options: { MQTT_BROKER_URL: '127.0.0.1', ...options },
      providers,
    });
    open.push(app);
    return { app, mqtt, logger };
  }

  it('connects during bootstrap: after init() the service is connected', async () => {
    const clientId = uid('conn-boot');
    const { app, mqtt, logger } = await compile({
      MQTT_BROKER_PORT: aedes.port,
      MQTT_CLIENT_ID: clientId,
    });
    expect(mqtt.state).toBe('idle');
    expect(mqtt.connected).toBe(false);
    expect(aedesClient(aedes, clientId)).toBeUndefined();

    await app.init();

    expect(mqtt.connected).toBe(true);
    expect(mqtt.state).toBe('connected');
    expect(aedesClient(aedes, clientId)).toBeDefined();
    expect(logger.mqtt('log')).toEqual([
      `Connecting to mqtt://127.0.0.1:${aedes.port} as client id "${clientId}"`,
      `Connected to mqtt://127.0.0.1:${aedes.port}`,
    ]);
  });

  it('a client id the broker rejects: MQTT 3.1 with a 29-character id (aedes enforces 23)', async () => {
    const clientId = 'conn-v31-id-longer-than-23-ch';
    const { app, mqtt, logger } = await compile({
      MQTT_BROKER_PORT: aedes.port,
      MQTT_PROTOCOL_VERSION: 'MQTTv31',
      MQTT_CLIENT_ID: clientId,
    });
    // The config warning waits for the @OnMqttLog() listeners (init), and comes before connecting.
    expect(logger.mqtt('warn')).toEqual([]);

    const error = await rejectionOf(app.init());

    expect(logger.mqtt('warn')).toEqual([
      'The client id is 29 bytes long, but MQTT 3.1 brokers may refuse ids longer than 23 bytes: shorten MQTT_CLIENT_ID, or use MQTT_PROTOCOL_VERSION=MQTTv311.',
    ]);
    expect(logger.mqtt()[0]).toBe(logger.mqtt('warn')[0]);

    expect(error).toBeInstanceOf(MqttConnectionError);
    expect((error as MqttConnectionError).code).toBe(2);
    expect(error.message).toBe(
      `The MQTT broker at mqtt://127.0.0.1:${aedes.port} refused the connection: client identifier rejected. Check MQTT_USERNAME, MQTT_PASSWORD, MQTT_CLIENT_ID and the broker's access rules.`,
    );
    expect(mqtt.state).toBe('closed');
    expect(mqtt.client.reconnecting).toBe(false);
  });

  it('unreachable: the error names 127.0.0.1:<port>', async () => {
    const port = await freePort();
    const { app, mqtt } = await compile({ MQTT_BROKER_PORT: port });

    const error = await rejectionOf(app.init());

    expect(error).toBeInstanceOf(MqttConnectionError);
    expect(error.message).toContain(
      `Cannot reach the MQTT broker at 127.0.0.1:${port}: ECONNREFUSED`,
    );
    expect(error.message).toContain('MQTT_CONNECT_IN_BACKGROUND=true');
    expect(mqtt.state).toBe('closed');
  });

  it('timeout: a server that accepts TCP and never answers gives an error naming MQTT_CONNECTION_TIMEOUT', async () => {
    const sockets = new Set<net.Socket>();
    const received: Buffer[] = [];
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (chunk) => received.push(chunk));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const { app } = await compile({ MQTT_BROKER_PORT: port, MQTT_CONNECTION_TIMEOUT: '1' });

      const error = await rejectionOf(app.init());

      expect(error).toBeInstanceOf(MqttConnectionError);
      expect(error.message).toBe(
        `No CONNACK from the MQTT broker at 127.0.0.1:${port} within 1 s (MQTT_CONNECTION_TIMEOUT). Check the address, port, transport and TLS settings, or raise MQTT_CONNECTION_TIMEOUT.`,
      );
      // The client did send its CONNECT (packet type 1): the silence was the server's.
      expect(received.length).toBeGreaterThan(0);
      expect(received[0][0] >> 4).toBe(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('app.close() while the broker is unreachable ends the reconnect loop', async () => {
    const port = await freePort();
    const { app, mqtt } = await compile({
      MQTT_BROKER_PORT: port,
      MQTT_CONNECT_IN_BACKGROUND: true,
      MQTT_RECONNECT_PERIOD: 1,
    });
    await app.init();
    let attempts = 0;
    mqtt.client.on('reconnect', () => attempts++);
    await until('a reconnect attempt', () => attempts > 0);

    await app.close();
    open.splice(open.indexOf(app), 1);
    const after = attempts;
    expect(mqtt.state).toBe('closed');
    // Nothing listens on the port, so a live loop would try again within 1 s.
    await delay(1500);
    expect(attempts).toBe(after);
    expect(mqtt.connected).toBe(false);
  });

  describeWithMosquitto('with Mosquitto', () => {
    let users: MosquittoBroker;
    let broker: MosquittoBroker;
    beforeAll(async () => {
      [users, broker] = await Promise.all([
        startMosquitto({ users: { alice: 'alice-right-pw' } }),
        // Offline persistent sessions get QoS 0 messages too (the offline publish test).
        startMosquitto({ persistence: true, extra: ['queue_qos0_messages true'] }),
      ]);
    });
    afterAll(() => Promise.all([users.stop(), broker.stop()]));

    it.each([
      ['MQTTv311', 5, 'not authorized'],
      ['MQTTv5', 135, 'not authorized'],
    ])(
      'a wrong password (%s): bootstrap rejects with the broker reason (%i) and no password',
      async (version, code, reason) => {
        const { app, logger } = await compile({
          MQTT_BROKER_PORT: users.port,
          MQTT_PROTOCOL_VERSION: version,
          MQTT_USERNAME: 'alice',
          MQTT_PASSWORD: PASSWORD,
        });

        const error = await rejectionOf(app.init());

        expect(error).toBeInstanceOf(MqttConnectionError);
        expect((error as MqttConnectionError).code).toBe(code);
        expect(error.message).toContain(
          `The MQTT broker at mqtt://127.0.0.1:${users.port} refused the connection: ${reason}.`,
        );
        expect([error.message, error.stack, inspect(error)].join('\n')).not.toContain(PASSWORD);
        for (const line of logger.lines) expect(line.inspected).not.toContain(PASSWORD);
      },
    );

    it('MQTT_CONNECT_IN_BACKGROUND=true: starts without a broker, connects later and delivers what was published offline', async () => {
      // A persistent subscriber session, so the broker keeps the message for it.
      const subscriberId = uid('conn-bg-sub');
      const subscriber = connect(broker.url, {
        clientId: subscriberId,
        clean: false,
        reconnectPeriod: 0,
      });
      await new Promise((resolve) => subscriber.once('connect', resolve));
      await subscriber.subscribeAsync('conn/bg/#', { qos: 1 });
      await closeClient(subscriber);
      await broker.stop(); // the database (with that session) is written on exit

      const { app, mqtt, logger } = await compile({
        MQTT_BROKER_PORT: broker.port,
        MQTT_CONNECT_IN_BACKGROUND: 'true',
        MQTT_RECONNECT_PERIOD: '1',
      });
      await app.init();

      expect(mqtt.connected).toBe(false);
      expect(mqtt.state).not.toBe('connected');
      expect(logger.mqtt('warn')).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^Could not connect to mqtt://127\\.0\\.0\\.1:${broker.port} \\(.*ECONNREFUSED.*\\); starting anyway because MQTT_CONNECT_IN_BACKGROUND is on$`,
          ),
        ),
      );
      let published = 0;
      const publishing = Promise.all([
        mqtt.publish('conn/bg/qos1', 'QoS 1 sent while offline', { qos: 1 }),
        mqtt.publish('conn/bg/qos0', 'QoS 0 sent while offline'),
      ]).then(() => (published = 2));
      // A runtime subscription made while offline is kept and sent once connected.
      const inbox: string[] = [];
      await mqtt.subscribe('conn/bg-in', (payload) => {
        inbox.push(payload.toString());
      });
      const subscribed = firstValueFrom(
        mqtt.events$.pipe(filter((e) => e.type === 'subscribe' && e.filter === 'conn/bg-in')),
      );
      expect(published).toBe(0);

      await broker.restart();
      await waitForState(mqtt, 'connected');
      await publishing;
      expect(published).toBe(2);
      await subscribed;
      await mosquittoPub([
        '-h',
        '127.0.0.1',
        '-p',
        String(broker.port),
        '-t',
        'conn/bg-in',
        '-m',
        'hi',
      ]);
      await until('the message on conn/bg-in', () => inbox.length > 0);
      expect(inbox).toEqual(['hi']);

      const messages: Array<[string, string]> = [];
      const again: MqttClient = connect(broker.url, {
        clientId: subscriberId,
        clean: false,
        reconnectPeriod: 0,
      });
      again.on('message', (topic, payload) => messages.push([topic, payload.toString()]));
      try {
        await until('the queued messages', () => messages.length >= 2);
        expect(messages.sort()).toEqual([
          ['conn/bg/qos0', 'QoS 0 sent while offline'],
          ['conn/bg/qos1', 'QoS 1 sent while offline'],
        ]);
      } finally {
        await closeClient(again);
      }
    });

    @Injectable()
    class Received {
      readonly decorated: string[] = [];
      readonly early: string[] = [];
      readonly runtime: string[] = [];
    }

    @Injectable()
    class DecoratedHandler {
      constructor(private readonly received: Received) {}
      @Subscribe('conn/decorated', { qos: 1 })
      on(payload: Buffer) {
        this.received.decorated.push(payload.toString());
      }
    }

    /** Subscribes in onModuleInit, before the module has connected. */
    @Injectable()
    class EarlySubscriber implements OnModuleInit {
      constructor(
        private readonly mqtt: MqttService,
        private readonly received: Received,
      ) {}
      async onModuleInit() {
        await this.mqtt.subscribe('conn/early', (payload) => {
          this.received.early.push(payload.toString());
        });
      }
    }

    it('reconnects after a broker restart: subscriptions restored, offline QoS 1 publish delivered, logged and reported', async () => {
      const clientId = uid('conn-reco');
      const { app, mqtt, logger } = await compile(
        { MQTT_BROKER_PORT: broker.port, MQTT_CLIENT_ID: clientId, MQTT_RECONNECT_PERIOD: 1 },
        [Received, DecoratedHandler, EarlySubscriber],
      );
      await app.init();
      const received = app.get(Received);
      await mqtt.subscribe('conn/runtime', (payload) => {
        received.runtime.push(payload.toString());
      });
      expect(mqtt.topics.sort()).toEqual(['conn/decorated', 'conn/early', 'conn/runtime']);

      // A persistent subscriber that reconnects by itself, to see the offline publish.
      const watcherId = uid('conn-reco-watch');
      const watcher = connect(broker.url, {
        clientId: watcherId,
        clean: false,
        reconnectPeriod: 200,
      });
      const watched: string[] = [];
      watcher.on('message', (_topic, payload) => watched.push(payload.toString()));
      await new Promise((resolve) => watcher.once('connect', resolve));
      await watcher.subscribeAsync('conn/offline', { qos: 1 });

      const sendAll = async (text: string) => {
        for (const topic of ['conn/decorated', 'conn/early', 'conn/runtime']) {
          await mosquittoPub([
            '-h',
            '127.0.0.1',
            '-p',
            String(broker.port),
            '-q',
            '1',
            '-t',
            topic,
            '-m',
            text,
          ]);
        }
      };
      const all = () => [received.decorated, received.early, received.runtime];
      try {
        await sendAll('before');
        await until('the first messages', () => all().every((r) => r.length === 1));

        const events: MqttEvent[] = [];
        const states: MqttConnectionState[] = [];
        const eventSub = mqtt.events$.subscribe((e) => events.push(e));
        const stateSub = mqtt.state$.subscribe((s) => states.push(s));

        await broker.stop();
        await waitForState(mqtt, 'offline');
        let delivered = false;
        const offlinePublish = mqtt
          .publish('conn/offline', 'published while down', { qos: 1 })
          .then(() => (delivered = true));
        await until('a reconnect attempt', () => events.some((e) => e.type === 'reconnect'));
        expect(delivered).toBe(false);

        await broker.restart();
        await waitForState(mqtt, 'connected', 10_000);
        await until('the subscriptions to be restored', () => {
          const afterConnect = events.slice(events.findIndex((e) => e.type === 'connect'));
          const filters = afterConnect.flatMap((e) => (e.type === 'subscribe' ? [e.filter] : []));
          return ['conn/decorated', 'conn/early', 'conn/runtime'].every((f) => filters.includes(f));
        });
        await offlinePublish;
        await until('the offline publish at the watcher', () => watched.length > 0, 10_000);
        expect(watched).toEqual(['published while down']);

        await sendAll('after');
        await until('the messages after the restart', () => all().every((r) => r.length === 2));
        expect(all()).toEqual([
          ['before', 'after'],
          ['before', 'after'],
          ['before', 'after'],
        ]);

        const types = events.map((e) => e.type).filter((t) => t !== 'log' && t !== 'error');
        expect(types.indexOf('offline')).toBeGreaterThanOrEqual(0);
        expect(types.indexOf('reconnect')).toBeGreaterThan(types.indexOf('offline'));
        expect(types.lastIndexOf('connect')).toBeGreaterThan(types.indexOf('reconnect'));
        expect(events).toContainEqual({
          type: 'connect',
          sessionPresent: false,
          broker: expect.any(String),
        });
        expect(states[0]).toBe('connected');
        expect(states.indexOf('offline')).toBeGreaterThan(0);
        expect(states.indexOf('reconnecting')).toBeGreaterThan(states.indexOf('offline'));
        expect(states.at(-1)).toBe('connected');
        eventSub.unsubscribe();
        stateSub.unsubscribe();

        const url = `mqtt://127.0.0.1:${broker.port}`;
        // One line for the outage, none per reconnect attempt.
        expect(logger.mqtt('warn')).toEqual([
          `Connection to ${url} lost; reconnecting with backoff (from 1 s, doubling up to 30 s), publishes are queued meanwhile`,
        ]);
        expect(logger.mqtt('log').filter((m) => m === `Connected to ${url}`)).toHaveLength(2);
      } finally {
        watcher.end(true);
      }
    });

    it('sets TCP_NODELAY on the socket on connect and on every reconnect', async () => {
      const spy = jest.spyOn(net.Socket.prototype, 'setNoDelay');
      try {
        const { app, mqtt } = await compile({
          MQTT_BROKER_PORT: broker.port,
          MQTT_RECONNECT_PERIOD: 1,
        });
        await app.init();
        const sockets = [mqtt.client.stream];
        for (let restart = 0; restart < 2; restart++) {
          await broker.restart();
          await until(
            'a new connection',
            () => mqtt.connected && mqtt.client.stream !== sockets.at(-1),
            10_000,
          );
          sockets.push(mqtt.client.stream);
        }
        expect(new Set(sockets).size).toBe(3);
        for (const socket of sockets) {
          const calls = spy.mock.contexts.flatMap((ctx, i) =>
            ctx === socket ? [spy.mock.calls[i]] : [],
          );
          expect(calls).toContainEqual([true]);
        }
      } finally {
        spy.mockRestore();
      }
    });
  });
});

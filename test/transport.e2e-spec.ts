/**
 * MQTT_TRANSPORT, MQTT_WS_PATH and ws:// URLs against an aedes broker that serves MQTT over
 * WebSocket on a custom path (the broker records the HTTP path of each connection), and
 * MQTT_PROTOCOL_VERSION against mosquitto, which logs the protocol level and speaks MQTT 5.
 */
import { Injectable } from '@nestjs/common';
import {
  MqttConnectionError,
  Payload,
  Subscribe,
  Topic,
  UserProperties,
  type MqttMessage,
  type MqttUserProperties,
} from 'nestjs-mqtt';
import type { MqttClient } from 'mqtt';
import {
  closeClient,
  collectMessages,
  connectClient,
  describeWithMosquitto,
  randomClientId,
  startAedes,
  startMosquitto,
  until,
  type AedesBroker,
  type MosquittoBroker,
} from './support';
import {
  connectLinePattern,
  failedBootstrap,
  keysAppStarter,
  waitForBrokerLog,
} from './fixtures/keys-helpers';

// Jest applies the global testTimeout (5 s), not the e2e project's 30 s of jest.config.js; these
// suites restart brokers and spawn apps, on a busy 2-core machine.
jest.setTimeout(30_000);

const WS_PATH = '/custom-mqtt';

@Injectable()
class WsWorker {
  readonly received: string[] = [];
  @Subscribe('ws/in')
  onMessage(payload: Buffer) {
    this.received.push(payload.toString());
  }
}

@Injectable()
class V5Worker {
  readonly received: Array<{ topic: string; body: unknown; props: MqttUserProperties }> = [];
  @Subscribe('v5/in/+', { qos: 1 })
  onMessage(
    @Topic() topic: string,
    @Payload() body: unknown,
    @UserProperties() props: MqttUserProperties,
  ) {
    this.received.push({ topic, body, props });
  }
}

describe('MQTT_TRANSPORT / MQTT_WS_PATH on the wire (aedes over WebSocket)', () => {
  let aedes: AedesBroker;
  /** HTTP path of each client's WebSocket upgrade, by client id ('tcp' for raw TCP). */
  const transports = new Map<string, string>();
  const { start, closeAll } = keysAppStarter();

  beforeAll(async () => {
    aedes = await startAedes({ websocket: true, wsPath: WS_PATH });
    aedes.broker.on('client', (client) => {
      const req = (client as unknown as { req?: { url?: string } }).req;
      transports.set(client.id, req?.url ?? 'tcp');
    });
  });

  afterEach(() => closeAll());

  afterAll(() => aedes?.stop());

  it(`MQTT_TRANSPORT=websockets + MQTT_WS_PATH=${WS_PATH}: connects over WebSocket on that path and carries messages both ways`, async () => {
    const id = randomClientId('ws');
    const started = await start(
      {
        MQTT_TRANSPORT: 'websockets',
        MQTT_WS_PATH: WS_PATH,
        MQTT_BROKER_URL: '127.0.0.1',
        MQTT_BROKER_PORT: String(aedes.wsPort),
        MQTT_CLIENT_ID: id,
      },
      [WsWorker],
    );
    expect(transports.get(id)).toBe(WS_PATH);

    const tcp = await connectClient(aedes.url);
    try {
      const inbox = await collectMessages(tcp, 'ws/out');
      await started.mqtt.publish('ws/out', 'from-ws-app', { qos: 1 });
      expect((await inbox.waitFor(1))[0].payload.toString()).toBe('from-ws-app');

      await tcp.publishAsync('ws/in', 'to-ws-app', { qos: 1 });
      const worker = started.app.get(WsWorker);
      await until('the ws app handler', () => worker.received.length > 0);
      expect(worker.received).toEqual(['to-ws-app']);
    } finally {
      await closeClient(tcp);
    }
  });

  it(`MQTT_WS_PATH left at /mqtt against a ${WS_PATH} server: the WebSocket upgrade is refused (HTTP 400)`, async () => {
    const { error } = await failedBootstrap({
      MQTT_TRANSPORT: 'websockets',
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(aedes.wsPort),
      MQTT_RECONNECT_PERIOD: '0',
      MQTT_CONNECTION_TIMEOUT: '2',
    });
    expect(error).toBeInstanceOf(MqttConnectionError);
    expect(error.message).toContain(`127.0.0.1:${aedes.wsPort}`);
    // The server's answer, not just "no CONNACK": the path is what is wrong.
    expect(error.message).toContain('Unexpected server response: 400');
  });

  it(`MQTT_BROKER_URL as a ws://host:port${WS_PATH} URL selects WebSocket and that path`, async () => {
    const id = randomClientId('wsurl');
    const started = await start({
      MQTT_BROKER_URL: `ws://127.0.0.1:${aedes.wsPort}${WS_PATH}`,
      MQTT_CLIENT_ID: id,
    });
    expect(started.mqtt.connected).toBe(true);
    expect(transports.get(id)).toBe(WS_PATH);
  });

  it('MQTT_TRANSPORT=tcp (the default) speaks raw MQTT: the same broker sees no WebSocket', async () => {
    const id = randomClientId('tcp');
    await start({
      MQTT_TRANSPORT: 'tcp',
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(aedes.port),
      MQTT_CLIENT_ID: id,
    });
    expect(transports.get(id)).toBe('tcp');
  });
});

describeWithMosquitto('MQTT_PROTOCOL_VERSION on the wire (mosquitto)', () => {
  let broker: MosquittoBroker;
  let v5client: MqttClient;
  const { start, closeAll } = keysAppStarter();
  const at = () => ({ MQTT_BROKER_URL: '127.0.0.1', MQTT_BROKER_PORT: String(broker.port) });

  beforeAll(async () => {
    broker = await startMosquitto();
    v5client = await connectClient(broker.url, { protocolVersion: 5 });
  });

  afterEach(() => closeAll());

  afterAll(async () => {
    if (v5client) await closeClient(v5client);
    await broker?.stop();
  });

  it('MQTT_PROTOCOL_VERSION=MQTTv31 / MQTTv311 / MQTTv5: the broker logs p1 / p2 / p5', async () => {
    const versions = [
      ['MQTTv31', 'p1'],
      ['MQTTv311', 'p2'],
      ['MQTTv5', 'p5'],
    ] as const;
    const ids = versions.map(([version]) => randomClientId(version.toLowerCase()));
    await Promise.all(
      versions.map(([version], i) =>
        start({ ...at(), MQTT_CLIENT_ID: ids[i], MQTT_PROTOCOL_VERSION: version }),
      ),
    );
    for (const [i, [, level]] of versions.entries()) {
      const [, flags] = await waitForBrokerLog(broker, connectLinePattern(ids[i]));
      expect(flags.split(', ')[0]).toBe(level);
    }
  });

  it('MQTT_PROTOCOL_VERSION=MQTTv5: a publish with user properties reaches an MQTT 5 subscriber with them', async () => {
    const { mqtt } = await start({ ...at(), MQTT_PROTOCOL_VERSION: 'MQTTv5' });
    const inbox = await collectMessages(v5client, 'v5/out', { qos: 1 });
    try {
      await mqtt.publish(
        'v5/out',
        { temp: 21.5 },
        {
          qos: 1,
          properties: {
            userProperties: { source: 'nest', trace: ['a', 'b'] },
            contentType: 'application/json',
          },
        },
      );
      const [message] = await inbox.waitFor(1);
      expect(JSON.parse(message.payload.toString())).toEqual({ temp: 21.5 });
      expect(message.packet.properties?.userProperties).toEqual({
        source: 'nest',
        trace: ['a', 'b'],
      });
      expect(message.packet.properties?.contentType).toBe('application/json');
    } finally {
      inbox.stop();
    }
  });

  it('MQTT_PROTOCOL_VERSION=MQTTv5: @Subscribe handlers and runtime subscribe() receive MQTT 5 messages with their properties', async () => {
    const { app, mqtt } = await start({ ...at(), MQTT_PROTOCOL_VERSION: 'MQTTv5' }, [V5Worker]);
    const runtime: MqttMessage[] = [];
    await mqtt.subscribe(
      'v5/runtime',
      (_payload, _topic, message) => {
        runtime.push(message);
      },
      { qos: 1 },
    );

    await v5client.publishAsync('v5/in/dev1', JSON.stringify({ on: true }), {
      qos: 1,
      properties: { userProperties: { tenant: 't-1' }, contentType: 'application/json' },
    });
    await v5client.publishAsync('v5/runtime', 'rt', {
      qos: 1,
      properties: { userProperties: { hop: '2' }, contentType: 'text/plain' },
    });

    const worker = app.get(V5Worker);
    await until('both handlers', () => worker.received.length > 0 && runtime.length > 0);
    expect(worker.received).toEqual([
      { topic: 'v5/in/dev1', body: { on: true }, props: { tenant: 't-1' } },
    ]);
    expect(runtime[0].payload.toString()).toBe('rt');
    expect(runtime[0].packet.properties?.userProperties).toEqual({ hop: '2' });
    expect(runtime[0].packet.properties?.contentType).toBe('text/plain');
  });
});

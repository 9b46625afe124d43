/**
 * Faults on the link between the app and the broker, injected by a TCP proxy in between:
 * - it goes silent (no forwarding either way, no FIN, no RST) for longer than the keepalive, then
 *   comes back: the client must find out by itself through the keepalive (MQTT-3.1.2-22: a
 *   PINGRESP must come within a reasonable time) and reconnect once the link is back;
 * - it is cut (both sockets destroyed) mid-stream: the client reconnects at once.
 * Either way it resumes its persistent session and handles every numbered QoS 1 message
 * published meanwhile by a publisher connected to the broker directly.
 */
import { Injectable } from '@nestjs/common';
import { Payload, Subscribe, type MqttModuleOptions } from 'nestjs-mqtt';

import {
  closeApp,
  delay,
  describeWithMosquitto,
  randomClientId,
  startMosquitto,
  startMqttApp,
  startTcpProxy,
  until,
  type MosquittoBroker,
  type MqttTestApp,
  type TcpProxy,
} from '../support';
import { expectNothingLost, guardUnhandledRejections, waitForAll } from './support/checks';
import { SequencePublisher } from './support/publisher';
import { Tally, sequenceOf } from './support/tally';

const TOTAL = 2000;
const TOPIC = 'faults/blackhole';
const KEEPALIVE_S = 1;
/** How long the link stays silent: well past MQTT.js's 1.5 x keepalive and Mosquitto's. */
const SILENCE_MS = 4000;

@Injectable()
class LinkReceiver {
  readonly tally = new Tally();

  @Subscribe(TOPIC, { qos: 1 })
  onMessage(@Payload() text: string): void {
    this.tally.record(sequenceOf(text));
  }
}

describeWithMosquitto('fault: the link to the broker goes silent or is cut', () => {
  const unhandled = guardUnhandledRejections();
  let broker: MosquittoBroker | undefined;
  let proxy: TcpProxy | undefined;
  let started: MqttTestApp | undefined;
  let publisher: SequencePublisher | undefined;

  /** A broker, the proxy, the app connected through it, and a publisher connected directly. */
  async function setup(name: string) {
    broker = await startMosquitto({ extra: ['max_queued_messages 20000'] });
    proxy = await startTcpProxy(broker.port);
    const options: MqttModuleOptions = {
      MQTT_CLIENT_ID: randomClientId(name),
      MQTT_CLEAN_SESSION: false,
      MQTT_KEEPALIVE: KEEPALIVE_S,
      MQTT_RECONNECT_PERIOD: 1,
    };
    started = await startMqttApp({
      broker: { port: proxy.port },
      options,
      providers: [LinkReceiver],
    });
    publisher = await SequencePublisher.connect({ url: broker.url, topic: TOPIC, window: 20 });
    const { mqtt, events } = started;
    const at = (type: string) => events.filter((e) => e.type === type).length;
    const reconnected = () =>
      until(
        'the client to reconnect through the proxy',
        () => at('connect') >= 2 && mqtt.state === 'connected',
        10_000,
        () => ({ state: mqtt.state, events: events.map((e) => e.type).slice(-5) }),
      );
    return {
      proxy,
      publisher,
      mqtt,
      events,
      at,
      reconnected,
      tally: started.app.get(LinkReceiver).tally,
    };
  }

  afterEach(async () => {
    await publisher?.close();
    if (started) await closeApp(started.app);
    await proxy?.close();
    await broker?.stop();
    publisher = started = proxy = broker = undefined;
  });
  afterAll(() => unhandled.stop());

  it('silent: the keepalive detects it, the client reconnects when it is back, no QoS 1 message is lost (MQTT-3.1.2-22, MQTT-3.1.2-4)', async () => {
    const { proxy, publisher, mqtt, events, at, reconnected, tally } = await setup('blackhole');
    await publisher.sendUntil(TOTAL / 4);
    const silentAt = Date.now();
    proxy.blackhole();
    const sending = publisher.sendUntil(TOTAL, 60_000); // goes on during the silence
    await until(
      'the client to notice the silent link (keepalive)',
      () => at('offline') > 0 || mqtt.state !== 'connected',
      KEEPALIVE_S * 1500 + 3000,
      () => ({ state: mqtt.state, events: events.map((e) => e.type).slice(-5) }),
    );
    const detectedMs = Date.now() - silentAt;
    await delay(Math.max(0, SILENCE_MS - detectedMs));
    const restoredAt = Date.now();
    proxy.restore();
    await reconnected();
    const reconnectMs = Date.now() - restoredAt;
    await sending;
    const report = await waitForAll(tally, publisher.sent, { idleMs: 5000 });

    expectNothingLost('link black-holed', report, {
      silenceMs: SILENCE_MS,
      keepaliveS: KEEPALIVE_S,
      detectedMs,
      reconnectMs,
    });
    // MQTT.js gives the PINGRESP 1.5 x keepalive; a little more for a loaded machine.
    expect(detectedMs).toBeLessThanOrEqual(KEEPALIVE_S * 1500 + 2000);
    const connect = events.filter((e) => e.type === 'connect');
    expect(connect[connect.length - 1]).toMatchObject({ type: 'connect', sessionPresent: true });
    unhandled.check();
  }, 60_000);

  it('cut mid-stream: the client reconnects within MQTT_RECONNECT_PERIOD and no QoS 1 message is lost (MQTT-4.4.0-1)', async () => {
    const { proxy, publisher, events, reconnected, tally } = await setup('cut');
    await publisher.sendUntil(TOTAL / 4);
    const sending = publisher.sendUntil(TOTAL, 60_000);
    await until('half of the messages handled', () => tally.distinct >= TOTAL / 2, 20_000);
    const cutAt = Date.now();
    proxy.cut();
    await reconnected();
    const reconnectMs = Date.now() - cutAt;
    await sending;
    const report = await waitForAll(tally, publisher.sent, { idleMs: 5000 });

    expectNothingLost('link cut', report, { reconnectMs });
    const connect = events.filter((e) => e.type === 'connect');
    expect(connect[connect.length - 1]).toMatchObject({ type: 'connect', sessionPresent: true });
    // The first reconnect attempt comes within MQTT_RECONNECT_PERIOD (1 s) plus a margin.
    expect(reconnectMs).toBeLessThan(3000);
    unhandled.check();
  }, 60_000);
});

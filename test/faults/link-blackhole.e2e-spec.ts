/**
 * Fault: the link between the app and the broker goes silent (a TCP proxy stops forwarding
 * both ways, with no FIN and no RST) for longer than the keepalive, then comes back. The client
 * must find out by itself through the keepalive (MQTT-3.1.2-22: a PINGRESP must come within a
 * reasonable time), reconnect once the link is back, resume its persistent session, and handle
 * every numbered QoS 1 message published meanwhile.
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
import { expectNothingLost, guardUnhandledRejections, waitForAll } from './support/faults';
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

describeWithMosquitto('fault: link black-holed by a proxy (no FIN), then restored', () => {
  const unhandled = guardUnhandledRejections();
  let broker: MosquittoBroker | undefined;
  let proxy: TcpProxy | undefined;
  let started: MqttTestApp | undefined;
  let publisher: SequencePublisher | undefined;

  afterAll(async () => {
    unhandled.stop();
    await publisher?.close();
    if (started) await closeApp(started.app);
    await proxy?.close();
    await broker?.stop();
  });

  it('the keepalive detects the silent link, the client reconnects when it is back, and no QoS 1 message is lost (MQTT-3.1.2-22, MQTT-3.1.2-4)', async () => {
    broker = await startMosquitto({ extra: ['max_queued_messages 20000'] });
    proxy = await startTcpProxy(broker.port);
    const options: MqttModuleOptions = {
      MQTT_CLIENT_ID: randomClientId('blackhole'),
      MQTT_CLEAN_SESSION: false,
      MQTT_KEEPALIVE: KEEPALIVE_S,
      MQTT_RECONNECT_PERIOD: 1,
    };
    started = await startMqttApp({
      broker: { port: proxy.port },
      options,
      providers: [LinkReceiver],
    });
    const { mqtt, events } = started;
    const tally = started.app.get(LinkReceiver).tally;
    const at = (type: string) => events.filter((e) => e.type === type).length;
    // The publisher talks to the broker directly: only the app's link fails.
    publisher = await SequencePublisher.connect({ url: broker.url, topic: TOPIC, window: 20 });

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
    await until(
      'the client to reconnect through the restored link',
      () => at('connect') >= 2 && mqtt.state === 'connected',
      10_000,
      () => ({ state: mqtt.state, events: events.map((e) => e.type).slice(-5) }),
    );
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
    expect(connect[connect.length - 1]).toEqual({ type: 'connect', sessionPresent: true });
    unhandled.check();
  }, 60_000);
});

/**
 * Fault: the broker crashes (SIGKILL) and restarts from its persistence database three times
 * while 5,000 numbered QoS 1 messages flow to an app with a persistent session
 * (MQTT_CLEAN_SESSION=false). The session must outlive each crash on MQTT 3.1.1 and on MQTT 5
 * alike (on 5 that takes a Session Expiry Interval, MQTT-3.1.2-23: with none the broker ends the
 * session with the connection), so every acknowledged message is handled: lost 0.
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
  until,
  type MosquittoBroker,
  type MqttTestApp,
} from '../support';
import { saveAndCrash } from './support/broker-crash';
import { expectNothingLost, guardUnhandledRejections, waitForAll } from './support/checks';
import { SequencePublisher } from './support/publisher';
import { Tally, sequenceOf } from './support/tally';

const TOTAL = 5000;
const CRASHES = 3;
const TOPIC = 'faults/restart';

/** Records every number; a little slower than the publisher, so the broker holds a backlog. */
@Injectable()
class RestartReceiver {
  readonly tally = new Tally();

  @Subscribe(TOPIC, { qos: 1 })
  async onMessage(@Payload() text: string): Promise<void> {
    const n = sequenceOf(text);
    if (n % 10 === 0) await delay(1);
    this.tally.record(n);
  }
}

describeWithMosquitto('fault: broker SIGKILL and restart with persistence', () => {
  const unhandled = guardUnhandledRejections();
  let broker: MosquittoBroker | undefined;
  let started: MqttTestApp | undefined;
  let publisher: SequencePublisher | undefined;

  afterEach(async () => {
    await publisher?.close();
    if (started) await closeApp(started.app);
    await broker?.stop();
    publisher = started = broker = undefined;
  });
  afterAll(() => unhandled.stop());

  it.each([
    ['MQTT 3.1.1', 4],
    ['MQTT 5', 5],
  ] as const)(
    '%s, MQTT_CLEAN_SESSION=false: 3 crashes during 5,000 QoS 1 messages, the session resumes each time and nothing is lost (MQTT-3.1.2-4, MQTT-3.1.2-23)',
    async (label, version) => {
      broker = await startMosquitto({
        persistence: true,
        extra: ['max_queued_messages 20000', 'autosave_interval 3600'],
      });
      const options: MqttModuleOptions = {
        MQTT_CLIENT_ID: randomClientId('restart'),
        MQTT_CLEAN_SESSION: false,
        MQTT_PROTOCOL_VERSION: version,
        MQTT_RECONNECT_PERIOD: 1,
      };
      started = await startMqttApp({ broker, options, providers: [RestartReceiver] });
      const { mqtt, events } = started;
      const tally = started.app.get(RestartReceiver).tally;
      const connects = () => events.filter((e) => e.type === 'connect');
      publisher = await SequencePublisher.connect({ url: broker.url, topic: TOPIC, window: 100 });

      const backlogs: number[] = [];
      for (let crash = 1; crash <= CRASHES; crash++) {
        await publisher.sendUntil((crash * TOTAL) / (CRASHES + 1));
        await until(
          `the app to be connected before crash ${crash}`,
          () => connects().length === crash && mqtt.state === 'connected',
          15_000,
          () => ({ state: mqtt.state, connects: connects().length }),
        );
        backlogs.push(publisher.sent.length - tally.distinct);
        await saveAndCrash(broker);
        await broker.restart();
      }
      await publisher.sendUntil(TOTAL, 60_000);
      const report = await waitForAll(tally, publisher.sent, { idleMs: 5000, maxMs: 60_000 });

      expectNothingLost(`broker SIGKILL x${CRASHES}, ${label}`, report, {
        backlogAtCrashes: backlogs,
        reconnects: connects().length - 1,
        sessionPresent: connects().map((e) => e.type === 'connect' && e.sessionPresent),
      });
      expect(report.sent).toBe(TOTAL);
      // Each reconnect resumed the session the broker kept through its crash.
      expect(connects().map((e) => e.type === 'connect' && e.sessionPresent)).toEqual([
        false,
        ...Array(CRASHES).fill(true),
      ]);
      // ... and said so in the log, once per reconnect.
      expect(started.logger.mqtt('log').filter((m) => /session resumed/i.test(m))).toHaveLength(
        CRASHES,
      );
      unhandled.check();
    },
    120_000,
  );
});

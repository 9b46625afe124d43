/**
 * Fault: the app is SIGKILLed in the middle of a stream of numbered QoS 1 messages, with a
 * persistent session, and the publisher goes on, so that ~2,900 messages wait for it at the
 * broker. The next instance (same client id) must boot although the broker floods it with the
 * resumed backlog at once (its SUBACK has to be read behind thousands of PUBLISHes: the
 * "resumed backlog at boot" case), and must then handle every message: the killed instance's
 * unacknowledged ones are redelivered (MQTT-4.4.0-1), none is lost.
 */
import {
  describeWithMosquitto,
  randomClientId,
  startMosquitto,
  terminate,
  until,
  waitForExit,
  type MosquittoBroker,
} from '../support';
import { expectNothingLost, guardUnhandledRejections, waitForAll } from './support/checks';
import { SequencePublisher } from './support/publisher';
import { startReceiver, type Receiver } from './support/receiver';

const TOTAL = 3000;
const BACKLOG_AT_LEAST = 2500;
const TOPIC = 'faults/app-kill';

describeWithMosquitto('fault: app SIGKILLed with a backlog, then restarted', () => {
  const unhandled = guardUnhandledRejections();
  let broker: MosquittoBroker | undefined;
  let publisher: SequencePublisher | undefined;
  const receivers: Receiver[] = [];

  afterEach(async () => {
    await publisher?.close();
    await Promise.all(receivers.splice(0).map((r) => terminate(r.app.child, 'SIGKILL')));
    await broker?.stop();
    publisher = broker = undefined;
  });
  afterAll(() => unhandled.stop());

  it.each([
    ['MQTT 3.1.1', 4],
    ['MQTT 5', 5],
  ] as const)(
    '%s: the next instance boots under the resumed backlog (SUBACK read behind ~2,900 queued QoS 1 PUBLISHes) and handles every message (MQTT-4.4.0-1)',
    async (label, version) => {
      // No in-flight limit for MQTT 3.1.1 clients: the broker sends the whole resumed backlog at
      // once, as it does to an MQTT 5 client that announces no Receive Maximum.
      broker = await startMosquitto({ maxInflight: 0, extra: ['max_queued_messages 100000'] });
      const env = {
        MQTT_BROKER_URL: '127.0.0.1',
        MQTT_BROKER_PORT: String(broker.port),
        MQTT_CLIENT_ID: randomClientId('appkill'),
        MQTT_CLEAN_SESSION: 'false',
        MQTT_PROTOCOL_VERSION: String(version),
        MQTT_CONNECTION_TIMEOUT: '5',
        SEQ_TOPIC: TOPIC,
        SEQ_QOS: '1',
      };
      const first = startReceiver({ ...env, HANDLER_DELAY_MS: '5' });
      receivers.push(first);
      const firstBootAt = Date.now();
      await first.ready();
      const firstBootMs = Date.now() - firstBootAt;

      publisher = await SequencePublisher.connect({ url: broker.url, topic: TOPIC, window: 100 });
      const sending = publisher.sendUntil(TOTAL, 60_000);
      await until(
        'the first instance to handle 100 messages',
        () => first.done.distinct >= 100,
        20_000,
      );
      first.app.child.kill('SIGKILL');
      expect(await waitForExit(first.app.child, 5000)).toBe(true);
      await sending;
      const backlog = TOTAL - first.done.distinct;
      expect(backlog).toBeGreaterThanOrEqual(BACKLOG_AT_LEAST);

      const bootAt = Date.now();
      // A handler with a little I/O (2 ms): the backlog takes longer than the connect timeout.
      const second = startReceiver({ ...env, HANDLER_DELAY_MS: '2' }, first.done);
      receivers.push(second);
      await second.ready(20_000);
      const bootMs = Date.now() - bootAt;
      const report = await waitForAll(first.done, publisher.sent, { idleMs: 5000 });

      expectNothingLost(`app SIGKILL with backlog, ${label}`, report, {
        backlog,
        bootMs,
        firstBootMs,
      });
      // The SUBACK is read at once, behind the backlog: the boot takes about as long as the first
      // one did, not as long as handling the backlog (MQTT_CONNECTION_TIMEOUT is 5 s).
      expect(bootMs).toBeLessThanOrEqual(firstBootMs + 2000);
      expect(second.app.events.find((e) => e.event === 'connected')).toEqual({
        event: 'connected',
        sessionPresent: true,
      });
      unhandled.check();
    },
    90_000,
  );
});

/**
 * Fault: SIGTERM while handlers run and more messages wait in the app. A graceful shutdown lets
 * the running handler calls finish (within MQTT_SHUTDOWN_TIMEOUT), starts none of the queued
 * ones (their PUBACKs are withheld, so the persistent session redelivers them to the next
 * instance, MQTT-4.4.0-1), disconnects cleanly and exits with code 0: nothing is lost.
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

const TOTAL = 200;
const TOPIC = 'faults/shutdown';
const CONCURRENCY = 4;
/** What the broker lets the app hold unacknowledged: 4 running and up to 56 queued. */
const IN_FLIGHT = 60;

/** How many PUBLISHes Mosquitto's log says it sent to `clientId`. */
function sentByBroker(broker: MosquittoBroker, clientId: string): number {
  return broker.readLog().split(`Sending PUBLISH to ${clientId} `).length - 1;
}

describeWithMosquitto('fault: SIGTERM under load', () => {
  const unhandled = guardUnhandledRejections();
  let broker: MosquittoBroker | undefined;
  let publisher: SequencePublisher | undefined;
  const receivers: Receiver[] = [];

  afterAll(async () => {
    unhandled.stop();
    await publisher?.close();
    await Promise.all(receivers.map((r) => terminate(r.app.child, 'SIGKILL')));
    await broker?.stop();
  });

  it('running handlers finish, queued messages are not started and go to the next instance, exit code 0, nothing lost (MQTT-4.4.0-1)', async () => {
    broker = await startMosquitto({ maxInflight: IN_FLIGHT, extra: ['max_queued_messages 10000'] });
    const clientId = randomClientId('sigterm');
    const env = {
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(broker.port),
      MQTT_CLIENT_ID: clientId,
      MQTT_CLEAN_SESSION: 'false',
      MQTT_SHUTDOWN_TIMEOUT: '5',
      SEQ_TOPIC: TOPIC,
      SEQ_QOS: '1',
      HANDLER_CONCURRENCY: String(CONCURRENCY),
    };
    const first = startReceiver({ ...env, HANDLER_DELAY_MS: '1000' });
    receivers.push(first);
    await first.ready();
    publisher = await SequencePublisher.connect({ url: broker.url, topic: TOPIC, window: 100 });
    await publisher.sendUntil(TOTAL);
    await until(
      `${CONCURRENCY} handler calls running and the broker's window (${IN_FLIGHT}) sent to the app`,
      () => first.started.distinct >= CONCURRENCY && sentByBroker(broker!, clientId) >= IN_FLIGHT,
      10_000,
      () => ({ started: first.started.distinct, sent: sentByBroker(broker!, clientId) }),
    );

    const events = first.app.events;
    const startedNumbers = () =>
      events.filter((e) => e.event === 'start').map((e) => e.n as number);
    const runningAtTerm = startedNumbers().filter((n) => !first.done.has(n));
    const queuedAtTerm = sentByBroker(broker, clientId) - startedNumbers().length;
    const termAt = Date.now();
    first.app.child.kill('SIGTERM');
    const exited = await waitForExit(first.app.child, 15_000);
    const shutdownMs = Date.now() - termAt;
    const termIndex = events.findIndex((e) => e.event === 'sigterm');
    const startedAfterTerm = events.slice(termIndex + 1).filter((e) => e.event === 'start');
    const cutOff = runningAtTerm.filter((n) => !first.done.has(n));

    const second = startReceiver({ ...env, HANDLER_DELAY_MS: '0' }, first.done);
    receivers.push(second);
    await second.ready();
    const report = await waitForAll(first.done, publisher.sent, { idleMs: 5000 });

    expectNothingLost('SIGTERM under load', report, {
      runningAtTerm: runningAtTerm.length,
      queuedAtTerm,
      cutOff: cutOff.length,
      startedAfterTerm: startedAfterTerm.length,
      shutdownMs,
      exitCode: first.app.child.exitCode ?? first.app.child.signalCode,
    });
    expect(exited).toBe(true);
    // The running calls need 1 s; MQTT_SHUTDOWN_TIMEOUT (5 s) bounds the wait, plus Node's exit.
    expect(shutdownMs).toBeLessThan(5000 + 2000);
    expect(termIndex).toBeGreaterThanOrEqual(0);
    expect(runningAtTerm.length).toBeGreaterThan(0);
    expect(queuedAtTerm).toBeGreaterThan(0);
    // Every call running at SIGTERM finished; none of the queued ones was started.
    expect(cutOff).toEqual([]);
    expect(startedAfterTerm).toEqual([]);
    expect({ exitCode: first.app.child.exitCode, signal: first.app.child.signalCode }).toEqual({
      exitCode: 0,
      signal: null,
    });
    unhandled.check();
  }, 60_000);
});

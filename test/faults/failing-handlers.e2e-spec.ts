/**
 * Fault: 10,000 handler calls that throw, reject or never settle (4,000 / 4,000 / 2,000,
 * interleaved), at QoS 0 and at QoS 1, with and without MQTT_DEAD_LETTER_TOPIC. Nothing may
 * deadlock: a probe handler on another topic keeps being served throughout (its latency is
 * measured), a never-settling call counts as failed after MQTT_HANDLER_TIMEOUT (0.2 s here) and
 * frees its slot, and with a dead-letter topic every failed call is dead-lettered. QoS 1 messages
 * are acknowledged in arrival order (MQTT-4.6.0-2), so a stuck one holds the window only until
 * its timeout.
 */
import type { MqttClient } from 'mqtt';
import type { MqttModuleOptions } from 'nestjs-mqtt';

import {
  closeApp,
  closeClient,
  collectMessages,
  connectClient,
  describeWithMosquitto,
  startMosquitto,
  startMqttApp,
  until,
  type MessageCollector,
  type MosquittoBroker,
  type MqttTestApp,
} from '../support';
import { handlerStats } from './support/stats';
import {
  FailingHandlers,
  PROBE_TOPIC,
  failTopic,
  type FailureKind,
} from './support/failing-handlers';
import { expectNothingLost, guardUnhandledRejections, waitForAll } from './support/checks';
import { startProbe } from './support/probe';
import { SequencePublisher } from './support/publisher';
import { logFigures, sequenceOf } from './support/tally';

const TOTAL = 10_000;
const DEAD_LETTERS = 'fail/dead';
const HANDLER_TIMEOUT_S = 0.2;
/** The probe topic must never wait longer than this, on a loaded CI machine. */
const PROBE_MAX_MS = 2000;

const kindOf = (n: number): FailureKind =>
  (['throw', 'throw', 'reject', 'reject', 'hang'] as const)[n % 5];

/** The distinct sequence numbers dead-lettered from `fail/q<qos>/...` (3.1.1 JSON envelope). */
function deadLettered(collector: MessageCollector, qos: 0 | 1): Set<number> {
  const numbers = new Set<number>();
  for (const { payload } of collector.messages) {
    const letter = JSON.parse(payload.toString('utf8')) as { topic: string; payload: string };
    if (letter.topic.startsWith(`fail/q${qos}/`)) {
      numbers.add(sequenceOf(Buffer.from(letter.payload, 'base64')));
    }
  }
  return numbers;
}

for (const deadLetterTopic of [undefined, DEAD_LETTERS]) {
  const label = deadLetterTopic ? 'with MQTT_DEAD_LETTER_TOPIC' : 'without a dead-letter topic';

  describeWithMosquitto(`fault: 10,000 failing handler calls, ${label}`, () => {
    const unhandled = guardUnhandledRejections();
    let broker: MosquittoBroker | undefined;
    let started: MqttTestApp | undefined;
    let watcher: MqttClient | undefined;
    let letters: MessageCollector | undefined;

    /** A fresh broker and app per test, so that one test's stall cannot spoil the next. */
    async function setup(): Promise<{
      broker: MosquittoBroker;
      started: MqttTestApp;
      letters: MessageCollector;
    }> {
      // A window as big as the never-settling handler's concurrency, so stuck QoS 1 calls overlap.
      broker = await startMosquitto({ maxInflight: 1000, extra: ['max_queued_messages 100000'] });
      const options: MqttModuleOptions = {
        MQTT_HANDLER_TIMEOUT: HANDLER_TIMEOUT_S,
        MQTT_SHUTDOWN_TIMEOUT: 1,
        ...(deadLetterTopic && { MQTT_DEAD_LETTER_TOPIC: deadLetterTopic }),
      };
      started = await startMqttApp({ broker, options, providers: [FailingHandlers] });
      watcher = await connectClient(broker.url);
      letters = await collectMessages(watcher, DEAD_LETTERS, { qos: 1 });
      return { broker, started, letters };
    }

    afterEach(async () => {
      letters?.stop();
      if (watcher) await closeClient(watcher);
      if (started) await closeApp(started.app);
      await broker?.stop();
      broker = started = watcher = letters = undefined;
    });
    afterAll(() => unhandled.stop());

    it.each([0, 1] as const)(
      'QoS %s: no deadlock (the probe topic keeps flowing), never-settling calls time out, every message is accounted for (MQTT-4.6.0-2)',
      async (qos) => {
        const { broker, started, letters } = await setup();
        const handlers = started.app.get(FailingHandlers);
        const publisher = await SequencePublisher.connect({
          url: broker.url,
          topic: (n) => failTopic(qos, kindOf(n)),
          qos,
          window: 200,
        });
        const probe = await startProbe(broker.url, PROBE_TOPIC, handlers.probes);
        const startedAt = Date.now();
        try {
          await publisher.sendUntil(TOTAL, 60_000);
        } finally {
          await publisher.close();
        }
        const report = await waitForAll(handlers.calls[qos], publisher.sent, { idleMs: 3000 });
        const hangCalls = handlers.byKind[`${qos}/hang`]?.distinct ?? 0;
        const hangStats = () => handlerStats(started.mqtt, `hang${qos}`);
        await until(
          'every never-settling call to time out',
          () => hangStats().timedOut >= hangCalls,
          10_000,
          () => hangStats(),
        ).catch(() => undefined); // asserted below, after the figures are logged
        const probeFigures = await probe.stop();
        const failedCalls = handlers.calls[qos].distinct;
        if (deadLetterTopic) {
          await until(
            'the dead letters',
            () => deadLettered(letters, qos).size >= failedCalls,
            10_000,
          ).catch(() => undefined);
        }
        const dropped = started.mqtt.stats().dropped;
        const figures = {
          calls: failedCalls,
          dropped,
          timedOut: hangStats().timedOut,
          deadLetters: deadLettered(letters, qos).size,
          probeMaxMs: Number.isFinite(probeFigures.maxMs) ? probeFigures.maxMs : 'never',
          probeP50Ms: probeFigures.p50Ms,
          probes: `${probeFigures.handled}/${probeFigures.sent}`,
          durationMs: Date.now() - startedAt,
        };
        const name = `failing handlers, QoS ${qos}, ${label}`;
        if (qos === 1) {
          expectNothingLost(name, report, figures);
        } else {
          // QoS 0 may drop past MQTT_QOS0_QUEUE_LIMIT by policy, but only counted drops.
          logFigures(name, { sent: report.sent, lost: report.lost, ...figures });
          expect({ lost: report.lost }).toEqual({ lost: dropped });
        }
        expect(probeFigures.handled).toBe(probeFigures.sent);
        expect(probeFigures.maxMs).toBeLessThan(PROBE_MAX_MS);
        // Every never-settling call timed out; every other call failed.
        expect(hangStats().timedOut).toBe(hangCalls);
        const failed = (kind: FailureKind) => handlerStats(started.mqtt, `${kind}${qos}`).failed;
        expect(failed('throw') + failed('reject')).toBe(failedCalls - hangCalls);
        if (deadLetterTopic) expect(deadLettered(letters, qos).size).toBe(failedCalls);
        else expect(letters.messages).toEqual([]);
        unhandled.check();
      },
      120_000,
    );
  });
}

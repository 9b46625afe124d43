/**
 * Fault: a QoS 0 handler that never settles (MQTT_HANDLER_TIMEOUT=0: no timeout at all) gets a
 * burst of 5,000 messages. It may hold up only itself: the client keeps reading the socket
 * (PUBACK, SUBACK, PINGRESP and other topics' messages still arrive), QoS 0 messages past
 * MQTT_QOS0_QUEUE_LIMIT are dropped for that handler and counted, with one warning per burst,
 * and another topic keeps flowing throughout (measured by a latency probe) and afterwards.
 */
import { Injectable } from '@nestjs/common';
import { Payload, Subscribe, type MqttModuleOptions } from 'nestjs-mqtt';

import {
  closeApp,
  describeWithMosquitto,
  startMosquitto,
  startMqttApp,
  until,
  type MosquittoBroker,
  type MqttTestApp,
} from '../support';
import { handlerStats } from './support/stats';
import { expectNothingLost, guardUnhandledRejections, waitForAll } from './support/checks';
import { ProbeLog, startProbe } from './support/probe';
import { SequencePublisher } from './support/publisher';
import { Tally, logFigures, sequenceOf } from './support/tally';

const BURST = 5000;
const QUEUE_LIMIT = 100;
const AFTER = 500;
const PROBE_MAX_MS = 2000;

@Injectable()
class StuckAndHealthy {
  readonly stuck = new Tally();
  readonly healthy = new Tally();
  readonly probes = new ProbeLog();

  @Subscribe('stuck/q0', { qos: 0 })
  neverSettles(@Payload() text: string): Promise<never> {
    this.stuck.record(sequenceOf(text));
    return new Promise<never>(() => undefined);
  }

  @Subscribe('healthy/q0', { qos: 0 })
  healthyTopic(@Payload() text: string): void {
    this.healthy.record(sequenceOf(text));
  }

  @Subscribe('healthy/probe', { qos: 1 })
  probe(@Payload() text: string): void {
    this.probes.record(text);
  }
}

describeWithMosquitto('fault: one QoS 0 handler that never settles', () => {
  const unhandled = guardUnhandledRejections();
  let broker: MosquittoBroker | undefined;
  let started: MqttTestApp | undefined;

  afterAll(async () => {
    unhandled.stop();
    if (started) await closeApp(started.app);
    await broker?.stop();
  });

  it('holds up only itself: 5,000 QoS 0 messages into it, the socket is still read, drops are counted, other topics keep flowing', async () => {
    broker = await startMosquitto({ extra: ['max_queued_messages 100000'] });
    const options: MqttModuleOptions = {
      MQTT_HANDLER_TIMEOUT: 0,
      MQTT_QOS0_QUEUE_LIMIT: QUEUE_LIMIT,
      MQTT_SHUTDOWN_TIMEOUT: 1,
    };
    started = await startMqttApp({ broker, options, providers: [StuckAndHealthy] });
    const handlers = started.app.get(StuckAndHealthy);
    const probe = await startProbe(broker.url, 'healthy/probe', handlers.probes);

    const burst = await SequencePublisher.connect({
      url: broker.url,
      topic: 'stuck/q0',
      qos: 0,
      window: 500,
    });
    await burst.sendUntil(BURST, 30_000);
    await burst.close();
    // Every PUBLISH of the burst was read off the socket, though nearly all are dropped: the
    // stuck call, the queued ones and the dropped ones add up to the burst.
    const accounted = (): number => {
      const stuck = handlerStats(started!.mqtt, 'neverSettles');
      return stuck.running + stuck.queued + stuck.dropped;
    };
    const read = await until(
      `the client to read all ${BURST} burst messages`,
      () => accounted() >= BURST,
      15_000,
    ).then(
      () => true,
      () => false,
    );

    const healthy = await SequencePublisher.connect({
      url: broker.url,
      topic: 'healthy/q0',
      qos: 0,
    });
    await healthy.sendUntil(AFTER);
    await healthy.close();
    const report = await waitForAll(handlers.healthy, healthy.sent, { idleMs: 3000 });
    const probeFigures = await probe.stop();
    const dropWarnings = started.logger.mqtt('warn').filter((m) => /drop/i.test(m));

    expectNothingLost('stuck QoS 0 handler, other topic afterwards', report, {
      burst: BURST,
      stuckCalls: handlers.stuck.total,
      probeMaxMs: Number.isFinite(probeFigures.maxMs) ? probeFigures.maxMs : 'never',
      probes: `${probeFigures.handled}/${probeFigures.sent}`,
      dropWarnings: dropWarnings.length,
    });
    expect(probeFigures.handled).toBe(probeFigures.sent);
    expect(probeFigures.maxMs).toBeLessThan(PROBE_MAX_MS);
    expect(read).toBe(true);
    const stats = started.mqtt.stats();
    const stuck = handlerStats(started.mqtt, 'neverSettles');
    logFigures('stuck QoS 0 handler, burst', {
      accounted: accounted(),
      dropped: stuck.dropped,
      running: stuck.running,
      queued: stuck.queued,
    });
    // One call runs forever, at most QUEUE_LIMIT wait, the rest were dropped and counted.
    expect(handlers.stuck.total).toBe(1);
    expect(stuck.running).toBe(1);
    expect(stuck.queued).toBeLessThanOrEqual(QUEUE_LIMIT);
    expect(stuck.running + stuck.queued + stuck.dropped).toBe(BURST);
    expect(stats.dropped).toBe(stuck.dropped);
    expect(dropWarnings.length).toBeGreaterThanOrEqual(1);
    expect(dropWarnings.length).toBeLessThanOrEqual(3);
    unhandled.check();
  }, 60_000);
});

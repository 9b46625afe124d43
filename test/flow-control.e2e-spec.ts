/**
 * Flow control: per-handler `concurrency` (order with the default 1, a cap with more), handlers
 * that do not hold each other up, QoS 1 bounded by the broker's in-flight window, and QoS 0
 * bounded per handler by MQTT_QOS0_QUEUE_LIMIT (the rest dropped and counted) while the client
 * keeps reading, so acknowledgements and other topics are never starved.
 */
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import type { MqttClient } from 'mqtt';
import { MqttService, Payload, Subscribe } from 'nestjs-mqtt';
import {
  closeClient,
  connectClient,
  delay,
  describeWithMosquitto,
  startAedes,
  startMosquitto,
  startMqttApp,
  until,
  type AedesBroker,
  type MosquittoBroker,
} from './support';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startChildApp } from './fixtures/reliability-helpers';

/** A promise with its resolve function, for handlers that must wait until the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

@Injectable()
class FlowHandlers {
  readonly ordered: number[] = [];
  readonly parallel = { active: 0, max: 0, done: 0 };
  readonly qos1Parallel = { active: 0, max: 0, done: 0 };
  readonly qos1AllRunning = gate();
  readonly slowGate = gate();
  slowStarted = 0;
  readonly slowQos2Gate = gate();
  slowQos2Started = 0;
  readonly fast: string[] = [];

  @Subscribe('flow/ordered')
  async inOrder(@Payload() n: number): Promise<void> {
    await delay(Math.floor(Math.random() * 3));
    this.ordered.push(n);
  }

  @Subscribe('flow/parallel', { concurrency: 4 })
  async inParallel(): Promise<void> {
    const p = this.parallel;
    p.active++;
    p.max = Math.max(p.max, p.active);
    await delay(5 + Math.floor(Math.random() * 10));
    p.active--;
    p.done++;
  }

  /** Waits (bounded) until four copies run at once, which they can only if they overlap. */
  @Subscribe('flow/parallel-qos1', { qos: 1, concurrency: 4 })
  async inParallelQos1(): Promise<void> {
    const p = this.qos1Parallel;
    p.active++;
    p.max = Math.max(p.max, p.active);
    if (p.active === 4) this.qos1AllRunning.open();
    await Promise.race([this.qos1AllRunning.promise, delay(1000)]);
    p.active--;
    p.done++;
  }

  @Subscribe('flow/slow', { qos: 1 })
  async slow(): Promise<void> {
    this.slowStarted++;
    await this.slowGate.promise;
  }

  @Subscribe('flow/slow2', { qos: 2 })
  async slowQos2(): Promise<void> {
    this.slowQos2Started++;
    await this.slowQos2Gate.promise;
  }

  @Subscribe('flow/fast/+', { qos: 1 })
  fastOne(@Payload() text: string): void {
    this.fast.push(text);
  }
}

describe('flow control (aedes)', () => {
  let broker: AedesBroker;
  let app: INestApplicationContext;
  let handlers: FlowHandlers;
  let publisher: MqttClient;

  beforeAll(async () => {
    broker = await startAedes();
    ({ app } = await startMqttApp({ broker, providers: [FlowHandlers] }));
    handlers = app.get(FlowHandlers);
    publisher = await connectClient(broker.url);
  });

  afterAll(async () => {
    handlers?.slowGate.open();
    handlers?.slowQos2Gate.open();
    if (publisher) await closeClient(publisher);
    await app?.close();
    await broker?.stop();
  });

  it('with the default concurrency 1, 200 QoS 0 messages reach an async handler in publish order', async () => {
    const sent = Array.from({ length: 200 }, (_, i) => i);
    for (const n of sent) publisher.publish('flow/ordered', String(n), { qos: 0 });
    await until('200 ordered messages', () => handlers.ordered.length >= 200, 10_000);
    expect(handlers.ordered).toEqual(sent);
  });

  it('with concurrency 4, QoS 0 messages overlap but never more than 4 at once', async () => {
    for (let i = 0; i < 40; i++) publisher.publish('flow/parallel', String(i), { qos: 0 });
    await until('40 parallel messages', () => handlers.parallel.done >= 40, 10_000);
    expect(handlers.parallel.done).toBe(40);
    expect(handlers.parallel.max).toBeLessThanOrEqual(4);
    expect(handlers.parallel.max).toBeGreaterThan(1);
  });

  it('with concurrency 4, QoS 1 messages overlap too (acks do not serialise the handlers)', async () => {
    await Promise.all(
      [0, 1, 2, 3].map((i) => publisher.publishAsync('flow/parallel-qos1', String(i), { qos: 1 })),
    );
    await until('4 QoS 1 messages handled', () => handlers.qos1Parallel.done >= 4, 10_000);
    expect(handlers.qos1Parallel.max).toBe(4);
  });

  it('a QoS 1 handler that is still running does not hold up messages for other handlers', async () => {
    await publisher.publishAsync('flow/slow', 'blocked', { qos: 1 });
    await until('the slow handler to start', () => handlers.slowStarted === 1);
    await publisher.publishAsync('flow/fast/a', 'qos1 while slow runs', { qos: 1 });
    await publisher.publishAsync('flow/fast/b', 'qos0 while slow runs', { qos: 0 });
    await until(
      'the fast handler to run while the slow one is blocked',
      () => handlers.fast.length >= 2,
      3000,
    ).catch(() => undefined);
    const whileBlocked = [...handlers.fast];
    handlers.slowGate.open();
    await until('fast messages after release', () => handlers.fast.length >= 2, 5000);
    expect(whileBlocked).toEqual(['qos1 while slow runs', 'qos0 while slow runs']);
  });

  it('a QoS 2 handler that is still running does not hold up messages for other handlers', async () => {
    const before = handlers.fast.length;
    await publisher.publishAsync('flow/slow2', 'blocked', { qos: 2 });
    await until('the slow QoS 2 handler to start', () => handlers.slowQos2Started === 1);
    await publisher.publishAsync('flow/fast/c', 'qos1 while qos2 runs', { qos: 1 });
    await until(
      'the fast handler to run while the QoS 2 one is blocked',
      () => handlers.fast.length >= before + 1,
      3000,
    ).catch(() => undefined);
    const whileBlocked = handlers.fast.slice(before);
    handlers.slowQos2Gate.open();
    await until('fast message after release', () => handlers.fast.length >= before + 1, 5000);
    expect(whileBlocked).toEqual(['qos1 while qos2 runs']);
  });
});

@Injectable()
class GatedQos1Handler {
  readonly gate = gate();
  handled = 0;
  outOfOrder = 0;
  private last = -1;

  @Subscribe('gated/qos1', { qos: 1 })
  async onMessage(@Payload() n: number): Promise<void> {
    if (this.handled === 0) await this.gate.promise;
    if (n !== this.last + 1) this.outOfOrder++;
    this.last = n;
    this.handled++;
  }
}

describeWithMosquitto("QoS 1 flow control: the broker's in-flight window (mosquitto)", () => {
  it('a blocked QoS 1 handler holds at most the in-flight window (20), none is lost, order kept', async () => {
    // Mosquitto's max_inflight_messages (default 20) bounds unacknowledged QoS 1 messages; the
    // module acknowledges only after the handler, so that window is all the app ever holds.
    const broker = await startMosquitto({ extra: ['max_queued_messages 10000'] });
    const { app } = await startMqttApp({ broker, providers: [GatedQos1Handler] });
    const publisher = await connectClient(broker.url);
    const handler = app.get(GatedQos1Handler);
    try {
      const mqtt = app.get(MqttService);
      const held = () => {
        const h = mqtt.stats().handlers.find((x) => x.name.endsWith('.onMessage'));
        return (h?.running ?? 0) + (h?.queued ?? 0);
      };
      let peak = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, held());
      }, 5);
      try {
        const COUNT = 3000;
        const acked = Promise.all(
          Array.from({ length: COUNT }, (_, i) =>
            publisher.publishAsync('gated/qos1', String(i), { qos: 1 }),
          ),
        );
        await until('the in-flight window to fill', () => held() >= 20, 5000);
        await delay(300);
        const whileBlocked = held();
        handler.gate.open();
        await acked;
        await until('every QoS 1 message handled', () => handler.handled >= COUNT, 20_000);
        console.info(`QoS 1 flow control: held ${whileBlocked} while blocked, peak ${peak}`);
        expect(whileBlocked).toBe(20);
        expect(peak).toBeLessThanOrEqual(20);
        expect(handler.handled).toBe(COUNT);
        expect(handler.outOfOrder).toBe(0);
        expect(mqtt.stats().dropped).toBe(0);
      } finally {
        clearInterval(sampler);
      }
    } finally {
      handler.gate.open();
      await closeClient(publisher);
      await app.close();
      await broker.stop();
    }
  });
});

/** A full garbage collection, through V8's flag (jest does not run node with --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
}

const BURST = 100_000;
const PAYLOAD_SIZE = 256;
const QOS0_LIMIT = 1000;

@Injectable()
class BurstHandler {
  readonly gate = gate();
  handled = 0;
  outOfOrder = 0;
  other = 0;
  private last = -1;

  @Subscribe('burst/t')
  async onBurst(@Payload() text: string): Promise<void> {
    if (this.handled === 0) await this.gate.promise;
    const n = Number.parseInt(text, 10);
    if (n <= this.last) this.outOfOrder++;
    this.last = n;
    this.handled++;
  }

  @Subscribe('burst/other', { qos: 1 })
  onOther(): void {
    this.other++;
  }
}

describeWithMosquitto('QoS 0 flow control: a bounded queue per handler (mosquitto)', () => {
  let broker: MosquittoBroker;

  beforeAll(async () => {
    // Raised so that the broker itself never drops: every message must reach the app.
    broker = await startMosquitto({ extra: ['max_queued_messages 200000'] });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('a 100k QoS 0 burst into a blocked handler: the client reads on, at most MQTT_QOS0_QUEUE_LIMIT wait, the rest are dropped and counted, other topics flow', async () => {
    const { app, logger } = await startMqttApp({ broker, providers: [BurstHandler] });
    const publisher = await connectClient(broker.url);
    try {
      const handler = app.get(BurstHandler);
      const mqtt = app.get(MqttService);
      let received = 0;
      mqtt.client.on('packetreceive', (packet) => {
        if (packet.cmd === 'publish' && packet.topic === 'burst/t') received++;
      });
      const queued = () =>
        mqtt.stats().handlers.find((h) => h.name.endsWith('.onBurst'))?.queued ?? 0;
      // What the app retains, not garbage the collector has not reached yet (a loaded machine
      // lets tens of MB of read-and-dropped messages pile up before a collection).
      // Two full collections with a turn of the event loop between: Buffers' memory is released
      // by a callback after the collection that found them unreachable.
      const memory = async (): Promise<number> => {
        collectGarbage();
        await new Promise((resolve) => setImmediate(resolve));
        collectGarbage();
        const m = process.memoryUsage();
        return m.heapUsed + m.arrayBuffers;
      };
      const baseline = await memory();
      let peakQueued = 0;
      const sampler = setInterval(() => {
        peakQueued = Math.max(peakQueued, queued());
      }, 10);

      try {
        const burst = startChildApp('reliability-burst.ts', {
          BURST_URL: broker.url,
          BURST_TOPIC: 'burst/t',
          BURST_COUNT: String(BURST),
          BURST_QOS: '0',
          BURST_SIZE: String(PAYLOAD_SIZE),
        });
        const done = await burst.waitFor((e) => e.event === 'done', 'the burst to be sent', 15_000);
        expect(done.count).toBe(BURST);
        // The client never stops reading: the whole burst arrives while the handler is blocked.
        await until('the whole burst to arrive', () => received >= BURST, 20_000);
        // And the protocol keeps flowing: a QoS 1 message on another topic is handled (acked).
        await publisher.publishAsync('burst/other', 'x', { qos: 1 });
        await until('the other handler to run', () => handler.other === 1, 5000);
        const growthBlockedMb = ((await memory()) - baseline) / 1024 / 1024;
        const droppedWhileBlocked = mqtt.stats().dropped;

        handler.gate.open();
        await until(
          'every queued message handled',
          () => handler.handled + mqtt.stats().dropped >= BURST,
          20_000,
        );
        peakQueued = Math.max(peakQueued, queued());
        console.info(
          `QoS 0 flow control: peak queued ${peakQueued}, dropped ${droppedWhileBlocked} of ${BURST}, ` +
            `heap+arrayBuffers retained while blocked ${growthBlockedMb.toFixed(1)} MB`,
        );
        expect(peakQueued).toBeLessThanOrEqual(QOS0_LIMIT);
        // Exact accounting: every message is handled or counted as dropped, none vanishes.
        expect(handler.handled + mqtt.stats().dropped).toBe(BURST);
        expect(handler.handled).toBe(QOS0_LIMIT + 1);
        expect(droppedWhileBlocked).toBe(BURST - QOS0_LIMIT - 1);
        expect(handler.outOfOrder).toBe(0);
        expect(growthBlockedMb).toBeLessThan(16);
        expect(logger.mqtt('warn').some((l) => l.includes('dropped: its queue is full'))).toBe(
          true,
        );
      } finally {
        clearInterval(sampler);
      }
    } finally {
      app.get(BurstHandler).gate.open();
      await closeClient(publisher);
      await app.close();
    }
  }, 60_000);
});

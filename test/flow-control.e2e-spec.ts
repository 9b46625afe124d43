/**
 * Flow control: per-handler `concurrency` (order with the default 1, a cap with more), handlers
 * that do not hold each other up, and back-pressure: a 100k-message burst into a blocked handler
 * must not queue more than `maxQueuedMessages` in the app, and nothing the broker delivered is
 * lost once the handler is released.
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

describe('back-pressure with QoS 1 and maxQueuedMessages (aedes)', () => {
  it('holds at most maxQueuedMessages (100) QoS 1 messages while the handler is blocked; none is lost', async () => {
    const broker = await startAedes();
    const { app } = await startMqttApp({
      broker,
      options: { maxQueuedMessages: 100 },
      providers: [GatedQos1Handler],
    });
    const publisher = await connectClient(broker.url);
    const handler = app.get(GatedQos1Handler);
    try {
      const mqtt = app.get(MqttService);
      const router = (mqtt as unknown as { router: { inFlight: number } }).router;
      let peak = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, router.inFlight);
      }, 5);
      try {
        const COUNT = 3000;
        const acked = Promise.all(
          Array.from({ length: COUNT }, (_, i) =>
            publisher.publishAsync('gated/qos1', String(i), { qos: 1 }),
          ),
        );
        await until('the app queue to fill', () => router.inFlight >= 100, 5000);
        await delay(200);
        const held = router.inFlight;
        handler.gate.open();
        await acked;
        await until('every QoS 1 message handled', () => handler.handled >= COUNT, 15_000);
        peak = Math.max(peak, router.inFlight);
        console.info(`QoS 1 back-pressure: held ${held} while blocked, peak in-flight ${peak}`);
        expect(held).toBeLessThanOrEqual(101);
        expect(peak).toBeLessThanOrEqual(101);
        expect(handler.handled).toBe(COUNT);
        expect(handler.outOfOrder).toBe(0);
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

const BURST = 100_000;
const PAYLOAD_SIZE = 256;

@Injectable()
class BurstHandler {
  readonly gate = gate();
  handled = 0;
  outOfOrder = 0;
  private last = -1;

  @Subscribe('burst/t')
  async onBurst(@Payload() text: string): Promise<void> {
    if (this.handled === 0) await this.gate.promise;
    const n = Number.parseInt(text, 10);
    if (n !== this.last + 1) this.outOfOrder++;
    this.last = n;
    this.handled++;
  }
}

describeWithMosquitto('back-pressure (mosquitto)', () => {
  let broker: MosquittoBroker;

  beforeAll(async () => {
    // Raised so that the broker itself never drops: every message must reach the app.
    broker = await startMosquitto({ extra: ['max_queued_messages 200000'] });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('a 100k burst into a blocked handler keeps at most maxQueuedMessages in the app, then all are handled', async () => {
    const { app } = await startMqttApp({ broker, providers: [BurstHandler] });
    try {
      const handler = app.get(BurstHandler);
      const mqtt = app.get(MqttService);
      const router = (mqtt as unknown as { router: { inFlight: number } }).router;
      let received = 0;
      mqtt.client.on('packetreceive', (packet) => {
        if (packet.cmd === 'publish' && packet.topic === 'burst/t') received++;
      });

      const memory = (): number => {
        const m = process.memoryUsage();
        return m.heapUsed + m.arrayBuffers;
      };
      const baseline = memory();
      let peakInFlight = 0;
      let peakMemory = baseline;
      const sampler = setInterval(() => {
        peakInFlight = Math.max(peakInFlight, router.inFlight);
        peakMemory = Math.max(peakMemory, memory());
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
        // The publisher is done; the app is still blocked on the first message.
        await until('the app queue to fill', () => router.inFlight >= 1000, 5000);
        await delay(200);
        const heldWhileBlocked = router.inFlight;
        const receivedWhileBlocked = received;
        const growthBlockedMb = (Math.max(peakMemory, memory()) - baseline) / 1024 / 1024;

        handler.gate.open();
        await until('every burst message handled', () => handler.handled >= BURST, 20_000);
        peakInFlight = Math.max(peakInFlight, router.inFlight);

        const growthMb = (peakMemory - baseline) / 1024 / 1024;
        console.info(
          `back-pressure: peak in-flight ${peakInFlight}, held while blocked ${heldWhileBlocked}, ` +
            `received while blocked ${receivedWhileBlocked}, heap+arrayBuffers growth while ` +
            `blocked ${growthBlockedMb.toFixed(1)} MB, overall peak growth ${growthMb.toFixed(1)} MB ` +
            `(${BURST} x ${PAYLOAD_SIZE} B payloads = ${((BURST * PAYLOAD_SIZE) / 1024 / 1024).toFixed(1)} MB)`,
        );
        // The default limit is 1000 queued messages (+1 running): the app stopped reading.
        expect(heldWhileBlocked).toBeLessThanOrEqual(1001);
        expect(peakInFlight).toBeLessThanOrEqual(1001);
        expect(receivedWhileBlocked).toBeLessThan(BURST / 2);
        // 100k queued 256-byte messages would take well over 24 MB of payload alone.
        expect(growthBlockedMb).toBeLessThan(16);
        expect(received).toBe(BURST);
        expect(handler.handled).toBe(BURST);
        expect(handler.outOfOrder).toBe(0);
      } finally {
        clearInterval(sampler);
      }
    } finally {
      app.get(BurstHandler).gate.open();
      await app.close();
    }
  }, 40_000);
});

/**
 * Issue 10 section 5, tracing: two Nest apps on MQTT 5 against a real Mosquitto, with an
 * OpenTelemetry SDK (BasicTracerProvider, in-memory exporter, AsyncLocalStorage context manager,
 * W3C propagator) registered globally. App A publishes inside a span; app B's handler starts a
 * span of its own; all four spans share one trace, each the child of the one before. On MQTT
 * 3.1.1, and without a tracer provider, nothing is traced or added to the message.
 */
import { Injectable } from '@nestjs/common';
import { trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { MqttClient } from 'mqtt';
import { Payload, Subscribe } from 'nestjs-mqtt';
import { registerTracing } from './fixtures/otel-tracing';
import {
  closeApp,
  closeClient,
  connectClient,
  describeWithMosquitto,
  nextMessage,
  spawnTypeScript,
  startMosquitto,
  startMqttApp,
  until,
  waitForExit,
  type MosquittoBroker,
  type MqttTestApp,
} from './support';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

@Injectable()
class OrderHandlers {
  readonly stored: string[] = [];
  /** The active span as the handler's last line sees it (after an await). */
  activeAtEnd?: { spanId?: string; recording?: boolean };

  @Subscribe('trace/orders/+')
  async store(@Payload() order: { id: string }): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // the context must survive an await
    const span = trace.getTracer('app-b').startSpan('store order');
    this.stored.push(order.id);
    span.end();
    const active = trace.getActiveSpan();
    this.activeAtEnd = { spanId: active?.spanContext().spanId, recording: active?.isRecording() };
  }

  @Subscribe('trace/broken')
  broken(): void {
    throw new Error('cannot parse order');
  }
}

describeWithMosquitto(
  'Tracing: W3C trace context across two apps on MQTT 5 (OpenTelemetry)',
  () => {
    const exporter = new InMemorySpanExporter();
    const spans = () => exporter.getFinishedSpans();
    const findSpan = (name: string) => spans().find((s) => s.name === name);
    const waitForSpan = (name: string): Promise<ReadableSpan> =>
      until(
        `the span "${name}"`,
        () => findSpan(name),
        5000,
        () => spans().map((s) => s.name),
      );
    let broker: MosquittoBroker;
    let appA: MqttTestApp;
    let appB: MqttTestApp;
    let wire: MqttClient;
    let unregisterTracing: (() => void) | undefined;

    beforeAll(async () => {
      unregisterTracing = registerTracing(exporter);
      broker = await startMosquitto();
      const v5 = { MQTT_PROTOCOL_VERSION: 5 } as const;
      appA = await startMqttApp({ broker, options: v5 });
      appB = await startMqttApp({ broker, options: v5, providers: [OrderHandlers] });
      wire = await connectClient(broker.url, { protocolVersion: 5 });
      await wire.subscribeAsync('trace/#', { qos: 1 });
    });

    afterEach(() => exporter.reset());

    afterAll(async () => {
      if (wire) await closeClient(wire);
      for (const started of [appA, appB]) if (started) await closeApp(started.app);
      await broker?.stop();
      unregisterTracing?.();
    });

    it('publish in app A inside a span, handle in app B: one trace, parent -> producer -> consumer -> handler span', async () => {
      const onWire = nextMessage(wire, 'trace/orders/+', { subscribe: false });
      await trace.getTracer('app-a').startActiveSpan('checkout', async (checkout) => {
        await appA.mqtt.publish('trace/orders/42', { id: '42' }, { qos: 1 });
        checkout.end();
      });

      const handlerSpan = await waitForSpan('store order');
      const consumer = await waitForSpan('trace/orders/+ process');
      const parent = findSpan('checkout')!;
      const producer = findSpan('trace/orders/42 publish')!;
      expect(producer).toBeDefined();
      const handlers = appB.app.get(OrderHandlers);
      expect(handlers.stored).toEqual(['42']);

      const traceId = parent.spanContext().traceId;
      for (const span of [producer, consumer, handlerSpan]) {
        expect(span.spanContext().traceId).toBe(traceId);
      }
      expect(parent.parentSpanContext).toBeUndefined();
      expect(producer.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
      expect(consumer.parentSpanContext?.isRemote).toBe(true);
      expect(handlerSpan.parentSpanContext?.spanId).toBe(consumer.spanContext().spanId);

      expect(producer.kind).toBe(SpanKind.PRODUCER);
      expect(producer.attributes).toMatchObject({
        'messaging.system': 'mqtt',
        'messaging.destination.name': 'trace/orders/42',
        'messaging.operation': 'publish',
      });
      expect(consumer.kind).toBe(SpanKind.CONSUMER);
      expect(consumer.attributes).toMatchObject({
        'messaging.system': 'mqtt',
        'messaging.destination.name': 'trace/orders/42',
        'messaging.destination.template': 'trace/orders/+',
        'messaging.operation': 'process',
        'nestjs_mqtt.handler': 'OrderHandlers.store',
      });
      expect(consumer.status.code).toBe(SpanStatusCode.UNSET);
      // The consumer span is still open (recording) when the async handler's last line runs.
      expect(handlers.activeAtEnd).toEqual({
        spanId: consumer.spanContext().spanId,
        recording: true,
      });

      // What travels: the producer span's context as the MQTT 5 user property `traceparent`.
      const { packet } = await onWire;
      const sent = TRACEPARENT.exec(String(packet.properties?.userProperties?.traceparent));
      expect(sent?.[1]).toBe(traceId);
      expect(sent?.[2]).toBe(producer.spanContext().spanId);
    });

    it('a failing handler ends its consumer span with status ERROR and the exception, in the same trace', async () => {
      await trace.getTracer('app-a').startActiveSpan('import', async (root) => {
        await appA.mqtt.publish('trace/broken', 'x', { qos: 1 });
        root.end();
      });
      const consumer = await waitForSpan('trace/broken process');
      expect(consumer.spanContext().traceId).toBe(findSpan('import')!.spanContext().traceId);
      expect(consumer.status).toEqual({
        code: SpanStatusCode.ERROR,
        message: 'cannot parse order',
      });
      expect(consumer.events.map((e) => e.name)).toEqual(['exception']);
    });

    it('MQTT 3.1.1: no span is started and nothing is added to the message', async () => {
      const v311 = await startMqttApp({ broker, options: { MQTT_PROTOCOL_VERSION: 4 } });
      try {
        const onWire = nextMessage(wire, 'trace/v311', { subscribe: false });
        await trace.getTracer('app-a').startActiveSpan('legacy', async (root) => {
          await v311.mqtt.publish('trace/v311', 'x', { qos: 1 });
          root.end();
        });
        const { packet } = await onWire;
        expect(packet.properties?.userProperties).toBeUndefined();
        expect(spans().map((s) => s.name)).toEqual(['legacy']);
      } finally {
        await closeApp(v311.app);
      }
    });

    it('without a registered tracer provider nothing is traced or propagated', async () => {
      unregisterTracing?.();
      unregisterTracing = undefined;
      const onWire = nextMessage(wire, 'trace/orders/+', { subscribe: false });
      await appA.mqtt.publish('trace/orders/7', { id: '7' }, { qos: 1 });
      const { packet } = await onWire;
      await until('app B to handle it', () => appB.app.get(OrderHandlers).stored.includes('7'));
      expect(packet.properties?.userProperties?.traceparent).toBeUndefined();
      expect(spans()).toEqual([]);
    });

    it('without @opentelemetry/api installed (an optional peer), an MQTT 5 app publishes and handles as usual', async () => {
      const child = spawnTypeScript('test/fixtures/no-otel-app.ts', {
        env: { ...process.env, NO_OTEL_BROKER_PORT: String(broker.port) },
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      expect(await waitForExit(child, 20_000)).toBe(true);
      expect({ code: child.exitCode, stderr: child.exitCode === 0 ? '' : stderr }).toEqual({
        code: 0,
        stderr: '',
      });
      expect(JSON.parse(stdout.trim())).toEqual({
        userProperties: { site: 'a' },
        openTelemetryLoaded: false,
      });
    });
  },
);

import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import type { IPublishPacket } from 'mqtt';
import type { MqttMessage, MqttUserProperties } from '../interfaces/mqtt-message.interface';
import { loadMqttTracing, MQTT_TRACER_NAME, MqttTracing } from './mqtt-tracing';

const { context, propagation, trace, SpanKind, SpanStatusCode } = api;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

function message(userProperties?: MqttUserProperties, filter = 'site/+/temp'): MqttMessage {
  const packet = {
    cmd: 'publish',
    topic: 'site/a/temp',
    payload: Buffer.from('21.5'),
    qos: 1,
    dup: false,
    retain: false,
    properties: userProperties && { userProperties },
  } as IPublishPacket;
  return { topic: packet.topic, payload: packet.payload as Buffer, packet, params: {}, filter };
}

function handler<T>(name: string, invoke: (message: MqttMessage) => T) {
  return { name, invoke };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('loadMqttTracing', () => {
  it('returns undefined when @opentelemetry/api is not installed', () => {
    const missing = (id: string) => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
    };
    expect(loadMqttTracing(missing)).toBeUndefined();
  });

  it('rethrows when the installed API fails to load for another reason', () => {
    const broken = () => {
      throw new SyntaxError('Unexpected token');
    };
    expect(() => loadMqttTracing(broken)).toThrow(SyntaxError);
  });

  it('loads the installed API', () => {
    expect(loadMqttTracing()).toBeInstanceOf(MqttTracing);
  });
});

describe('MqttTracing without a registered tracer provider', () => {
  const tracing = new MqttTracing(api);

  it('is disabled, injects nothing and runs the handler as is', () => {
    expect(tracing.enabled).toBe(false);
    expect(tracing.injectTraceContext('a/b', 0, { userProperties: { k: 'v' } })).toBeUndefined();
    const result = tracing.runInExtractedContext(
      message(),
      handler('H.handle', () => {
        expect(trace.getActiveSpan()).toBeUndefined();
        return 42;
      }),
    );
    expect(result).toBe(42);
  });
});

describe('MqttTracing with a tracer provider', () => {
  const exporter = new InMemorySpanExporter();
  const tracing = new MqttTracing(api);
  const spans = () => exporter.getFinishedSpans();
  const named = (name: string): ReadableSpan => {
    const span = spans().find((s) => s.name === name);
    if (!span)
      throw new Error(
        `no span "${name}"; got ${spans()
          .map((s) => s.name)
          .join(', ')}`,
      );
    return span;
  };

  beforeAll(() => {
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  afterEach(() => exporter.reset());
  afterAll(() => {
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('starts a PRODUCER span, child of the active span, and injects its traceparent', () => {
    const parent = trace.getTracer('test').startSpan('parent');
    const callerProperties = { contentType: 'text/plain', userProperties: { tenant: 'x' } };
    const traced = context.with(trace.setSpan(context.active(), parent), () =>
      tracing.injectTraceContext('site/a/cmd', 1, callerProperties),
    );
    expect(traced).toBeDefined();
    traced!.end();
    parent.end();

    const producer = named('site/a/cmd publish');
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.instrumentationScope.name).toBe(MQTT_TRACER_NAME);
    expect(producer.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(producer.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'mqtt',
      'messaging.destination.name': 'site/a/cmd',
      'messaging.operation': 'publish',
      'nestjs_mqtt.qos': 1,
    });
    expect(producer.status.code).toBe(SpanStatusCode.UNSET);

    const sent = traced!.properties.userProperties!;
    const match = TRACEPARENT.exec(sent.traceparent as string);
    expect(match?.[1]).toBe(producer.spanContext().traceId);
    expect(match?.[2]).toBe(producer.spanContext().spanId);
    expect(sent.tenant).toBe('x');
    expect(traced!.properties.contentType).toBe('text/plain');
    expect(callerProperties.userProperties).toEqual({ tenant: 'x' }); // the caller's object is untouched
  });

  it('marks a failed publish on its PRODUCER span', () => {
    tracing.injectTraceContext('a/b', 0, undefined)!.end(new Error('Connection closed'));
    const producer = named('a/b publish');
    expect(producer.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Connection closed' });
    expect(producer.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('runs a handler in a CONSUMER span, child of the extracted context, active inside it', () => {
    const traced = tracing.injectTraceContext('site/a/temp', 1, undefined)!;
    traced.end();
    let active: api.Span | undefined;
    const result = tracing.runInExtractedContext(
      message(traced.properties.userProperties),
      handler('Sensors.onTemp', () => {
        active = trace.getActiveSpan();
        return 'reply';
      }),
    );
    expect(result).toBe('reply');

    const producer = named('site/a/temp publish');
    const consumer = named('site/+/temp process');
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(active?.spanContext().spanId).toBe(consumer.spanContext().spanId);
    expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(consumer.parentSpanContext?.isRemote).toBe(true);
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'mqtt',
      'messaging.destination.name': 'site/a/temp',
      'messaging.destination.template': 'site/+/temp',
      'messaging.operation': 'process',
      'messaging.message.body.size': 4,
      'nestjs_mqtt.handler': 'Sensors.onTemp',
    });
  });

  it('starts a new trace for a message without trace context', () => {
    const outer = trace.getTracer('test').startSpan('unrelated');
    context.with(trace.setSpan(context.active(), outer), () =>
      tracing.runInExtractedContext(
        message({ other: 'x' }),
        handler('H.handle', () => undefined),
      ),
    );
    outer.end();
    const consumer = named('site/+/temp process');
    expect(consumer.parentSpanContext).toBeUndefined();
    expect(consumer.spanContext().traceId).not.toBe(outer.spanContext().traceId);
  });

  it('ends the span of an async handler when its promise settles, not before', async () => {
    const work = deferred<string>();
    const returned = tracing.runInExtractedContext(
      message(),
      handler('H.handle', () => work.promise),
    );
    expect(returned).toBe(work.promise); // the lane sees the handler's own promise
    await Promise.resolve();
    expect(spans()).toHaveLength(0);
    work.resolve('done');
    await returned;
    await Promise.resolve();
    expect(named('site/+/temp process').status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records a rejection and leaves the rejection to the caller', async () => {
    const error = new TypeError('bad reading');
    const returned = tracing.runInExtractedContext(
      message(),
      handler('H.handle', () => Promise.reject(error)),
    );
    await expect(returned).rejects.toBe(error);
    await Promise.resolve();
    const consumer = named('site/+/temp process');
    expect(consumer.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad reading' });
    expect(consumer.attributes['error.type']).toBe('TypeError');
    expect(consumer.events[0].attributes?.['exception.message']).toBe('bad reading');
  });

  it('records a synchronous throw and rethrows it', () => {
    const error = new Error('sync failure');
    expect(() =>
      tracing.runInExtractedContext(
        message(),
        handler('H.handle', () => {
          throw error;
        }),
      ),
    ).toThrow(error);
    expect(named('site/+/temp process').status.code).toBe(SpanStatusCode.ERROR);
  });

  it('keeps the consumer context across awaits, so spans the handler starts are its children', async () => {
    await tracing.runInExtractedContext(
      message(),
      handler('H.handle', async () => {
        await new Promise((resolve) => setImmediate(resolve));
        trace.getTracer('app').startSpan('handler work').end();
      }),
    );
    const consumer = named('site/+/temp process');
    expect(named('handler work').parentSpanContext?.spanId).toBe(consumer.spanContext().spanId);
  });
});

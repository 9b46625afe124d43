import { inspect } from 'node:util';
import type * as OtelApi from '@opentelemetry/api';
import type { IClientPublishOptions } from 'mqtt';
import type { MqttMessage, MqttUserProperties } from '../interfaces/mqtt-message.interface';
import type { MqttQos } from '../interfaces/subscribe-options.interface';

/** MQTT 5 PUBLISH properties as MQTT.js takes them. */
type PublishProperties = NonNullable<IClientPublishOptions['properties']>;

/** The instrumentation scope of every span this module starts. */
export const MQTT_TRACER_NAME = 'nestjs-mqtt';

/** W3C trace context in MQTT 5 user properties: one property per propagation field. */
const setter: OtelApi.TextMapSetter<MqttUserProperties> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};
const getter: OtelApi.TextMapGetter<MqttUserProperties> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** What a traced handler call needs: a name for the span, and the call. */
export interface TracedHandler<T> {
  /** `Class.method` or `subscribe("filter")`. */
  readonly name: string;
  readonly invoke: (message: MqttMessage) => T;
}

/** A publish being traced: the properties to send, and `end` once the publish settled. */
export interface MqttPublishTrace {
  /** The caller's properties with `traceparent` (and `tracestate`) added to a copy. */
  readonly properties: PublishProperties;
  /** Ends the PRODUCER span, as failed when `error` is given. */
  readonly end: (error?: unknown) => void;
}

/**
 * OpenTelemetry tracing of MQTT 5 messages, through the global OpenTelemetry API: a PRODUCER span
 * per publish with its W3C trace context in the user properties, and a CONSUMER span per handler
 * call, child of the context extracted from the message, active while the handler runs. Does
 * nothing (and costs one check) while no tracer provider is registered.
 */
export class MqttTracing {
  private readonly tracer: OtelApi.Tracer;
  /** What an unset global tracer provider delegates to. */
  private readonly noopProvider: OtelApi.TracerProvider;

  /** @internal (kept out of the .d.ts files, which must not need `@opentelemetry/api`) */
  constructor(private readonly api: typeof OtelApi) {
    this.tracer = api.trace.getTracer(MQTT_TRACER_NAME);
    this.noopProvider = new api.ProxyTracerProvider().getDelegate();
  }

  /** Whether a tracer provider is registered (`trace.setGlobalTracerProvider()`, an OTel SDK). */
  get enabled(): boolean {
    const provider = this.api.trace.getTracerProvider() as Partial<OtelApi.ProxyTracerProvider>;
    return provider.getDelegate === undefined || provider.getDelegate() !== this.noopProvider;
  }

  /**
   * Starts the PRODUCER span `"<topic> publish"` (child of the active context) and returns a copy
   * of `properties` whose user properties carry its context as the registered propagator writes
   * it (W3C: `traceparent`, `tracestate`). Undefined when tracing is off.
   */
  injectTraceContext(
    topic: string,
    qos: MqttQos,
    properties: PublishProperties | undefined,
  ): MqttPublishTrace | undefined {
    if (!this.enabled) return undefined;
    const { context, propagation, trace, SpanKind } = this.api;
    const parent = context.active();
    const span = this.tracer.startSpan(
      `${topic} publish`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'mqtt',
          'messaging.destination.name': topic,
          'messaging.operation': 'publish',
          'messaging.operation.name': 'publish',
          'messaging.operation.type': 'send',
          'nestjs_mqtt.qos': qos,
        },
      },
      parent,
    );
    const userProperties: MqttUserProperties = { ...properties?.userProperties };
    propagation.inject(trace.setSpan(parent, span), userProperties, setter);
    return {
      properties: { ...properties, userProperties },
      end: (error?: unknown) => this.end(span, error),
    };
  }

  /**
   * Calls `handler.invoke(message)` inside a CONSUMER span `"<filter> process"` whose parent is
   * the trace context extracted from the message's user properties (a new trace when it has
   * none); the span is the active one while the handler runs. It ends when the call settles: at
   * once when `invoke` returns or throws, else when the promise it returned settles; an error is
   * recorded and sets the status to ERROR. Returns (or throws) what `invoke` did, untouched.
   */
  runInExtractedContext<T>(message: MqttMessage, handler: TracedHandler<T>): T {
    if (!this.enabled) return handler.invoke(message);
    const { context, propagation, trace, SpanKind, ROOT_CONTEXT } = this.api;
    const carrier = message.packet.properties?.userProperties;
    const parent = carrier ? propagation.extract(ROOT_CONTEXT, carrier, getter) : ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      `${message.filter} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'mqtt',
          'messaging.destination.name': message.topic,
          'messaging.destination.template': message.filter,
          'messaging.operation': 'process',
          'messaging.operation.name': 'process',
          'messaging.operation.type': 'process',
          'messaging.message.body.size': message.payload.length,
          'nestjs_mqtt.qos': message.packet.qos,
          'nestjs_mqtt.handler': handler.name,
        },
      },
      parent,
    );
    let result: T;
    try {
      result = context.with(trace.setSpan(parent, span), handler.invoke, handler, message);
    } catch (error) {
      this.end(span, error);
      throw error;
    }
    if (isThenable(result)) {
      result.then(
        () => this.end(span),
        (error: unknown) => this.end(span, error),
      );
    } else {
      this.end(span);
    }
    return result;
  }

  private end(span: OtelApi.Span, error?: unknown): void {
    if (error !== undefined) {
      const exception =
        error instanceof Error
          ? error
          : new Error(typeof error === 'string' ? error : inspect(error));
      span.recordException(exception);
      span.setAttribute('error.type', exception.name);
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: exception.message });
    }
    span.end();
  }
}

/**
 * The tracing helpers when `@opentelemetry/api` (an optional peer dependency) is installed;
 * undefined when it is not, so the module works without it. Throws what loading it threw when it
 * is installed but broken.
 * @param load How to load the API; the default is `require`.
 */
export function loadMqttTracing(
  load: (id: string) => unknown = defaultLoad,
): MqttTracing | undefined {
  let api: typeof OtelApi;
  try {
    api = load('@opentelemetry/api') as typeof OtelApi;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  return new MqttTracing(api);
}

function defaultLoad(id: string): unknown {
  // A plain require, so that an app without the optional peer never loads or needs it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(id);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

import {
  ForbiddenException,
  type ArgumentsHost,
  type CanActivate,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import { isObservable, lastValueFrom } from 'rxjs';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import { MQTT_CONTEXT_TYPE } from '../mqtt.constants';
import { MqttContext } from '../mqtt.context';
import { argsResolver, straightReaders, type ArgsResolver, type ParamPlan } from './handler-args';
import type { NestConsumers, NestFilterChain, NestPipeMetadata } from './nest.internals';
import type { PayloadDecoder } from './payload-decoder';

type Args = [Buffer, MqttContext];
type Invoke = (message: MqttMessage) => unknown;

/** What Nest says when a guard denies (its `FORBIDDEN_MESSAGE`), as on every Nest transport. */
const FORBIDDEN_MESSAGE = 'Forbidden resource';

/** Everything it takes to call one `@Subscribe()` method, worked out once at bootstrap. */
export interface HandlerPlan {
  instance: object;
  method: (...args: unknown[]) => unknown;
  params: readonly ParamPlan[];
  decoder: PayloadDecoder;
  /** Global, class and method guards, in Nest's order. */
  guards: readonly CanActivate[];
  /** Global, class and method interceptors, in Nest's order. */
  interceptors: readonly NestInterceptor[];
  /** Global, class and method pipes, run on every parameter before its own. */
  pipes: readonly PipeTransform[];
  filters: NestFilterChain;
}

/**
 * Builds the function the dispatcher calls for one handler. One path, whatever enhancers apply,
 * in Nest's order: guards; interceptors around the rest; the arguments, by the one resolver;
 * pipes; the method; an Observable result becomes its last value; exception filters get an error
 * of any stage. Guards, interceptors and pipes run through Nest's own consumers, so with Nest's
 * semantics. As in Nest, the arguments are resolved inside the interceptors: they see a payload
 * that does not decode, and a message a guard denies is never decoded.
 *
 * A stage with nothing in it is left out when the invoker is built, so a handler with no guard,
 * interceptor or pipe is called synchronously (its own value back, not a Promise): Nest's
 * wrapper makes every call async, ~3x the cost of the whole dispatch.
 */
export function createInvoker(plan: HandlerPlan, nest: NestConsumers): Invoke {
  const resolve = argsResolver(plan.params, plan.decoder);
  const guards = guardsStage(plan, nest);
  const interceptors = interceptorsStage(plan, nest);
  const pipes = pipesStage(plan, nest);
  const call =
    guards || interceptors || pipes
      ? enhancedCall(plan, resolve, guards, interceptors, pipes)
      : plainCall(plan, resolve);
  return plan.filters.filters.length === 0 ? call : withFilters(call, plan);
}

/**
 * No guard, interceptor or pipe: resolve, call, normalise; synchronous. A handler of up to three
 * parameters read straight off the message (the default `(payload, topic, packet)` among them)
 * is called with its arguments, without an argument array or a context.
 */
function plainCall(plan: HandlerPlan, resolve: ArgsResolver): Invoke {
  const { instance, method } = plan;
  const r = straightReaders(plan.params, plan.decoder);
  switch (r?.length) {
    case 0:
      return () => toResult(method.call(instance));
    case 1: {
      const [a] = r;
      return (m) => toResult(method.call(instance, a(m)));
    }
    case 2: {
      const [a, b] = r;
      return (m) => toResult(method.call(instance, a(m), b(m)));
    }
    case 3: {
      const [a, b, c] = r;
      return (m) => toResult(method.call(instance, a(m), b(m), c(m)));
    }
    default:
      return (m) => toResult(method.apply(instance, resolve(m, undefined)));
  }
}

type Guards = (args: Args) => Promise<void>;
type Interceptors = (args: Args, next: () => Promise<unknown>) => Promise<unknown>;
type Pipes = (values: unknown[]) => Promise<void>;

/** The same stages, each one present only when something is in it (as Nest's own wrapper). */
function enhancedCall(
  { instance, method, decoder }: HandlerPlan,
  resolve: ArgsResolver,
  guards: Guards | undefined,
  interceptors: Interceptors | undefined,
  pipes: Pipes | undefined,
): Invoke {
  return async (message) => {
    const ctx = new MqttContext(message, decoder);
    const args: Args = [message.payload, ctx];
    if (guards) await guards(args);
    const handle = async (): Promise<unknown> => {
      const values = resolve(message, ctx);
      if (pipes) await pipes(values);
      return method.apply(instance, values);
    };
    return toResult(interceptors ? await interceptors(args, handle) : await handle());
  };
}

/** Nest's guards: an ExecutionContext of type 'mqtt' over `[payload, MqttContext]`. */
function guardsStage(plan: HandlerPlan, nest: NestConsumers): Guards | undefined {
  const { guards, instance, method } = plan;
  if (guards.length === 0) return undefined;
  return async (args) => {
    if (!(await nest.guards.tryActivate(guards, args, instance, method, MQTT_CONTEXT_TYPE))) {
      throw new ForbiddenException(FORBIDDEN_MESSAGE);
    }
  };
}

/** Nest's interceptors, in the async scope Nest gives them, around the rest of the call. */
function interceptorsStage(plan: HandlerPlan, nest: NestConsumers): Interceptors | undefined {
  const { interceptors, instance, method } = plan;
  if (interceptors.length === 0) return undefined;
  return (args, next) =>
    nest.interceptors.intercept(interceptors, args, instance, method, next, MQTT_CONTEXT_TYPE);
}

/**
 * Nest's pipes, on every parameter that has any (the handler's, then its own), all at once as
 * Nest does; each gets the numeric param type (PipesConsumer tells `'body'`, `'param'` or
 * `'custom'` from it), the declared type and the decorator's argument.
 */
function pipesStage({ params, pipes }: HandlerPlan, nest: NestConsumers): Pipes | undefined {
  const piped = params
    .filter((p) => pipes.length + p.pipes.length > 0)
    .map((p) => ({
      index: p.index,
      metadata: { metatype: p.metatype, type: p.type, data: p.data } satisfies NestPipeMetadata,
      pipes: [...pipes, ...p.pipes],
    }));
  if (piped.length === 0) return undefined;
  return async (values) => {
    await Promise.all(
      piped.map(async (p) => {
        values[p.index] = await nest.pipes.apply(values[p.index], p.metadata, p.pipes);
      }),
    );
  };
}

/** A result as Nest's `transformToResult` gives it: an Observable becomes its last value. */
function toResult(value: unknown): unknown {
  // The cheap test first: most handlers return nothing, or a Promise.
  return typeof value === 'object' && value !== null && isObservable(value)
    ? lastValueFrom(value)
    : value;
}

/** Gives a call's error (thrown or rejected) to the exception filters. */
function withFilters(call: Invoke, { filters, decoder }: HandlerPlan): Invoke {
  const args = (message: MqttMessage): Args => [message.payload, new MqttContext(message, decoder)];
  return (message) => {
    try {
      const result = call(message);
      return result instanceof Promise
        ? result.catch((error: unknown) => applyFilters(filters, error, args(message)))
        : result;
    } catch (error) {
      return applyFilters(filters, error, args(message));
    }
  };
}

/**
 * Gives an error to the first exception filter whose `@Catch()` matches it, as Nest does for
 * HTTP routes. A filter that catches the error has handled it (no error report, no dead
 * letter) unless it throws, rejects or returns an Observable that errors; what it returns is
 * the handler's result (so it can be an MQTT 5 reply).
 */
function applyFilters(chain: NestFilterChain, error: unknown, args: Args): unknown {
  const filter = chain.filters.find(
    ({ exceptionMetatypes }) =>
      exceptionMetatypes.length === 0 || exceptionMetatypes.some((type) => error instanceof type),
  );
  if (!filter) throw error;
  const result = filter.func(error, argumentsHost(args));
  return isObservable(result) ? lastValueFrom(result, { defaultValue: undefined }) : result;
}

function argumentsHost(args: Args): ArgumentsHost {
  const host = {
    getArgs: () => args,
    getArgByIndex: (index: number) => args[index],
    getType: () => MQTT_CONTEXT_TYPE,
    switchToRpc: () => ({ getData: () => args[0], getContext: () => args[1] }),
    switchToHttp: () => ({
      getRequest: () => args[0],
      getResponse: () => args[1],
      getNext: () => undefined,
    }),
    switchToWs: () => ({
      getClient: () => args[1],
      getData: () => args[0],
      getPattern: () => args[1].getTopic(),
    }),
  };
  return host as unknown as ArgumentsHost;
}

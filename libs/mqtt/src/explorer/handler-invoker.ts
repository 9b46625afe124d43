import type { ArgumentsHost } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import { MqttParamType, type MqttArgsMetadata } from '../decorators/params.decorator';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import { MQTT_ARGS_METADATA, MQTT_CONTEXT_TYPE } from '../mqtt.constants';
import { MqttContext } from '../mqtt.context';
import type { NestFilterChain } from './nest.internals';
import type { PayloadDecoder } from './payload-decoder';

type Args = [Buffer, MqttContext];

/** Resolves handler arguments from the `[payload, MqttContext]` pair each call gets. */
export const mqttParamsFactory = {
  exchangeKeyForValue(type: number, key: unknown, args: Args): unknown {
    const data = typeof key === 'string' ? key : undefined;
    const ctx = args[1];
    const message = ctx.message;
    switch (type as MqttParamType) {
      case MqttParamType.PAYLOAD: {
        const payload = ctx.getPayload();
        return data === undefined ? payload : (payload as Record<string, unknown> | null)?.[data];
      }
      case MqttParamType.RAW_PAYLOAD:
        return message.payload;
      case MqttParamType.TOPIC:
        return message.topic;
      case MqttParamType.TOPIC_PARAM:
        return data === undefined ? undefined : message.params[data];
      case MqttParamType.TOPIC_PARAMS:
        return message.params;
      case MqttParamType.PACKET:
        return message.packet;
      case MqttParamType.MESSAGE:
        return message;
      case MqttParamType.USER_PROPERTIES: {
        const props = ctx.getUserProperties();
        return data === undefined ? props : props[data];
      }
      case MqttParamType.PROPERTIES: {
        const props = (message.packet.properties ?? {}) as Record<string, unknown>;
        return data === undefined ? props : props[data];
      }
      default:
        return undefined;
    }
  },
};

/** What it takes to call one `@Subscribe()` method. */
export interface HandlerTarget {
  instance: object;
  method: (...args: unknown[]) => unknown;
  methodName: string;
  args: MqttArgsMetadata;
  decoder: PayloadDecoder;
  /** Whether a guard, interceptor or pipe applies (then Nest's context creator runs them). */
  enhanced: boolean;
  filters: NestFilterChain;
}

/**
 * Builds the function the dispatcher calls for one handler. Arguments are resolved from the
 * message; guards, interceptors and pipes run through Nest's context creator when any applies
 * (else the method is called directly: Nest's wrapper resolves every argument through promises,
 * ~3x the cost of the whole dispatch); exception filters are applied here, in both cases alike.
 */
export function createInvoker(
  target: HandlerTarget,
  contextCreator: ExternalContextCreator,
): (message: MqttMessage) => unknown {
  const { decoder, filters } = target;
  const call = target.enhanced ? nestCall(target, contextCreator) : directCall(target);
  if (filters.filters.length === 0) {
    return (message) => call(message.payload, new MqttContext(message, decoder));
  }
  return (message) => {
    const args: Args = [message.payload, new MqttContext(message, decoder)];
    try {
      const result = call(args[0], args[1]);
      return isPromise(result)
        ? result.catch((error: unknown) => applyFilters(filters, error, args))
        : result;
    } catch (error) {
      return applyFilters(filters, error, args);
    }
  };
}

function nestCall(target: HandlerTarget, creator: ExternalContextCreator) {
  return creator.create(
    target.instance,
    target.method,
    target.methodName,
    MQTT_ARGS_METADATA,
    mqttParamsFactory,
    undefined,
    undefined,
    { guards: true, interceptors: true, filters: false },
    MQTT_CONTEXT_TYPE,
  ) as (payload: Buffer, ctx: MqttContext) => Promise<unknown>;
}

/** Calls the method with its arguments resolved synchronously: the path with no enhancers. */
function directCall({ instance, method, args }: HandlerTarget) {
  const params = Object.keys(args).map((key) => ({
    type: Number(key.slice(0, key.indexOf(':'))),
    index: args[key].index,
    data: args[key].data,
  }));
  const argc = params.reduce((n, p) => Math.max(n, p.index + 1), 0);
  return (payload: Buffer, ctx: MqttContext): unknown => {
    const host: Args = [payload, ctx];
    const values: unknown[] = new Array(argc);
    for (const p of params)
      values[p.index] = mqttParamsFactory.exchangeKeyForValue(p.type, p.data, host);
    return method.apply(instance, values);
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

function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}

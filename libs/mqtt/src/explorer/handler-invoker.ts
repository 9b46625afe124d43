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
  let call: (message: MqttMessage) => unknown;
  if (target.enhanced) {
    const nest = nestCall(target, contextCreator);
    call = (message) => nest(message.payload, new MqttContext(message, decoder));
  } else {
    call = directCall(target);
  }
  if (filters.filters.length === 0) return call;
  const args = (message: MqttMessage): Args => [message.payload, new MqttContext(message, decoder)];
  return (message) => {
    try {
      const result = call(message);
      return isPromise(result)
        ? result.catch((error: unknown) => applyFilters(filters, error, args(message)))
        : result;
    } catch (error) {
      return applyFilters(filters, error, args(message));
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

/**
 * Calls the method with its arguments resolved synchronously: the path with no enhancers. The
 * common arguments are read straight off the message (no MqttContext), and the payload is
 * decoded once however many parameters read it.
 */
function directCall({ instance, method, args, decoder }: HandlerTarget) {
  const params = Object.keys(args).map((key) => {
    const type: MqttParamType = Number(key.slice(0, key.indexOf(':')));
    return { type, index: args[key].index, data: args[key].data };
  });
  const argc = params.reduce((n, p) => Math.max(n, p.index + 1), 0);
  const count = params.length;
  return (message: MqttMessage): unknown => {
    const values: unknown[] = new Array(argc);
    let decoded: unknown = NOT_DECODED;
    let ctx: MqttContext | undefined;
    for (let k = 0; k < count; k++) {
      const p = params[k];
      switch (p.type) {
        case MqttParamType.PAYLOAD:
          if (decoded === NOT_DECODED) decoded = decoder(message.payload);
          values[p.index] =
            p.data === undefined ? decoded : (decoded as Record<string, unknown> | null)?.[p.data];
          break;
        case MqttParamType.TOPIC_PARAM:
          values[p.index] = p.data === undefined ? undefined : message.params[p.data];
          break;
        case MqttParamType.RAW_PAYLOAD:
          values[p.index] = message.payload;
          break;
        case MqttParamType.TOPIC:
          values[p.index] = message.topic;
          break;
        default:
          ctx ??= new MqttContext(message, decoder);
          values[p.index] = mqttParamsFactory.exchangeKeyForValue(p.type, p.data, [
            message.payload,
            ctx,
          ]);
      }
    }
    return method.apply(instance, values);
  };
}

const NOT_DECODED = Symbol('not decoded');

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

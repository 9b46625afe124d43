import type { ExternalContextCreator } from '@nestjs/core';
import { MqttParamType, type MqttArgsMetadata } from '../decorators/params.decorator';
import type { MqttValidationOptions } from '../interfaces/mqtt-module-options.interface';
import type { ParamPlan } from './handler-args';
import type { HandlerPlan } from './handler-invoker';
import { enhancersOf, exceptionFiltersOf, paramPipesOf } from './nest.internals';
import { payloadDecoder } from './payload-decoder';

/** Where one `@Subscribe()` method is, and what its parameter decorators recorded. */
export interface HandlerSource {
  instance: object;
  methodName: string;
  args: MqttArgsMetadata;
  /** The module whose providers hold the handler: enhancers given as classes resolve there. */
  moduleKey: string;
  validation: MqttValidationOptions | false;
}

/**
 * Works out, once per handler, everything its invoker needs: its parameters (with their declared
 * types and own pipes), the guards, interceptors and pipes Nest's context creators find for it
 * (global, class and method), its exception filters, and how its payload is decoded.
 */
export function handlerPlan(creator: ExternalContextCreator, source: HandlerSource): HandlerPlan {
  const { instance, methodName, args, moduleKey } = source;
  const method = (instance as Record<string, (...a: unknown[]) => unknown>)[methodName];
  const paramTypes: unknown[] | undefined = Reflect.getMetadata(
    'design:paramtypes',
    Object.getPrototypeOf(instance) as object,
    methodName,
  );
  const params: ParamPlan[] = Object.keys(args).map((key) => {
    const { index, data, pipes } = args[key];
    return {
      index,
      type: Number(key.slice(0, key.indexOf(':'))),
      data,
      metatype: paramTypes?.[index],
      pipes: paramPipesOf(creator, pipes, moduleKey),
    };
  });
  const enhancers = enhancersOf(creator, instance, method, moduleKey);
  const payload = params.find((p) => p.type === MqttParamType.PAYLOAD);
  // The decoding follows the type of a whole-payload @Payload(); @Payload('field') reads JSON.
  // A class payload is validated once: by the module, or by the pipes when any applies to it.
  const decoder = payloadDecoder(
    payload?.data === undefined ? payload?.metatype : undefined,
    source.validation,
    enhancers.pipes.length > 0 || (payload?.pipes.length ?? 0) > 0,
  );
  return {
    instance,
    method,
    params,
    decoder,
    ...enhancers,
    filters: exceptionFiltersOf(creator, instance, method, moduleKey),
  };
}

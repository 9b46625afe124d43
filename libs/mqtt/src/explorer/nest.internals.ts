import type {
  ArgumentsHost,
  CanActivate,
  NestInterceptor,
  PipeTransform,
  Type,
} from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';

/**
 * Every use of NestJS private members, in one place. `ExternalContextCreator` resolves a
 * handler's guards, interceptors, pipes and exception filters and holds the consumers that run
 * them, but only exposes a wrapper that runs all of them with promises for every argument (~3x
 * the cost of the whole dispatch). The module asks the same creators for a handler's enhancers
 * and runs them with the same consumers itself, so a handler without enhancers is called
 * directly. `missingNestInternals()` checks all of it at bootstrap, and the contract spec beside
 * this file fails loudly when a Nest upgrade changes it.
 */
type Creator<T> = { create(instance: object, callback: unknown, module: string): T };

/** Nest's resolved exception filters, most specific first (method, class, global). */
export interface NestFilterChain {
  filters: Array<{
    func: (exception: unknown, host: ArgumentsHost) => unknown;
    exceptionMetatypes: Type<unknown>[];
  }>;
}

/** What Nest's `PipesConsumer.apply()` takes: `type` is the numeric param type it maps. */
export interface NestPipeMetadata {
  metatype: unknown;
  type: number;
  data: string | undefined;
}

/**
 * Nest's own guard, interceptor and pipe runners (GuardsConsumer, InterceptorsConsumer,
 * PipesConsumer), so enhancers behave on MQTT handlers exactly as on Nest's other transports:
 * the same execution context, the same async scope around interceptors, the same pipe metadata.
 */
export interface NestConsumers {
  guards: {
    tryActivate(
      guards: readonly CanActivate[],
      args: unknown[],
      instance: object,
      callback: (...args: unknown[]) => unknown,
      type: string,
    ): Promise<boolean>;
  };
  interceptors: {
    intercept(
      interceptors: readonly NestInterceptor[],
      args: unknown[],
      instance: object,
      callback: (...args: unknown[]) => unknown,
      next: () => Promise<unknown>,
      type: string,
    ): Promise<unknown>;
  };
  pipes: {
    apply(
      value: unknown,
      metadata: NestPipeMetadata,
      pipes: readonly PipeTransform[],
    ): Promise<unknown>;
  };
}

/** The guards, interceptors and pipes (global, class and method) of one handler. */
export interface NestEnhancers {
  guards: CanActivate[];
  interceptors: NestInterceptor[];
  pipes: PipeTransform[];
}

interface Internals {
  filtersContextCreator: Creator<Partial<NestFilterChain>>;
  guardsContextCreator: Creator<CanActivate[]>;
  interceptorsContextCreator: Creator<NestInterceptor[]>;
  pipesContextCreator: Creator<PipeTransform[]> & {
    setModuleContext(moduleKey: string): void;
    createConcreteContext(pipes: unknown[]): PipeTransform[];
  };
  guardsConsumer: NestConsumers['guards'];
  interceptorsConsumer: NestConsumers['interceptors'];
  pipesConsumer: NestConsumers['pipes'];
}

/** Each private member of `ExternalContextCreator` used, with the methods called on it. */
const REQUIRED: Record<keyof Internals, readonly string[]> = {
  filtersContextCreator: ['create'],
  guardsContextCreator: ['create'],
  interceptorsContextCreator: ['create'],
  pipesContextCreator: ['create', 'setModuleContext', 'createConcreteContext'],
  guardsConsumer: ['tryActivate'],
  interceptorsConsumer: ['intercept'],
  pipesConsumer: ['apply'],
};

/**
 * The private members of `ExternalContextCreator` the module needs that it lacks: a member
 * missing altogether by its name, a missing method as `member.method`.
 */
export function missingNestInternals(creator: ExternalContextCreator): string[] {
  const raw = creator as unknown as Record<string, Record<string, unknown> | undefined>;
  return Object.entries(REQUIRED).flatMap(([member, methods]) => {
    const value = raw[member];
    if (value === undefined || value === null) return [member];
    return methods
      .filter((method) => typeof value[method] !== 'function')
      .map((method) => `${member}.${method}`);
  });
}

/** The exception filters (method, class and global) that apply to a handler. */
export function exceptionFiltersOf(
  creator: ExternalContextCreator,
  instance: object,
  method: unknown,
  moduleKey: string,
): NestFilterChain {
  const chain = (creator as unknown as Internals).filtersContextCreator.create(
    instance,
    method,
    moduleKey,
  );
  return { filters: Array.isArray(chain.filters) ? chain.filters : [] };
}

/**
 * The guards, interceptors and pipes (global, class and method, in Nest's order) of a handler,
 * as instances; classes resolve in the module `moduleKey`.
 */
export function enhancersOf(
  creator: ExternalContextCreator,
  instance: object,
  method: unknown,
  moduleKey: string,
): NestEnhancers {
  const raw = creator as unknown as Internals;
  return {
    guards: raw.guardsContextCreator.create(instance, method, moduleKey),
    interceptors: raw.interceptorsContextCreator.create(instance, method, moduleKey),
    pipes: raw.pipesContextCreator.create(instance, method, moduleKey),
  };
}

/**
 * The pipes of one parameter (`@Payload(pipe)`) as instances, as Nest resolves a route
 * argument's pipes: classes in the module `moduleKey`, anything that is no pipe left out.
 */
export function paramPipesOf(
  creator: ExternalContextCreator,
  pipes: readonly unknown[],
  moduleKey: string,
): PipeTransform[] {
  if (pipes.length === 0) return [];
  const { pipesContextCreator } = creator as unknown as Internals;
  pipesContextCreator.setModuleContext(moduleKey);
  return pipesContextCreator.createConcreteContext([...pipes]);
}

/** Nest's guard, interceptor and pipe consumers held by `ExternalContextCreator`. */
export function nestConsumers(creator: ExternalContextCreator): NestConsumers {
  const raw = creator as unknown as Internals;
  return {
    guards: raw.guardsConsumer,
    interceptors: raw.interceptorsConsumer,
    pipes: raw.pipesConsumer,
  };
}

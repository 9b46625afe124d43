import type { ArgumentsHost, Type } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';

/**
 * Every use of NestJS private members, in one place. `ExternalContextCreator` resolves a
 * handler's guards, interceptors, pipes and exception filters, but only exposes a wrapper that
 * runs all of them with promises for every argument; the module asks the same creators
 * directly, to learn whether any enhancer applies (no enhancer: a direct call, ~3x cheaper) and
 * to run exception filters itself. `missingNestInternals()` checks all of it at bootstrap, and
 * the contract spec beside this file fails loudly when a Nest upgrade changes it.
 */
type Creator<T> = { create(instance: object, callback: unknown, module: string): T };

/** Nest's resolved exception filters, most specific first (method, class, global). */
export interface NestFilterChain {
  filters: Array<{
    func: (exception: unknown, host: ArgumentsHost) => unknown;
    exceptionMetatypes: Type<unknown>[];
  }>;
}

interface Internals {
  filtersContextCreator: Creator<Partial<NestFilterChain>>;
  guardsContextCreator: Creator<unknown[]>;
  interceptorsContextCreator: Creator<unknown[]>;
  pipesContextCreator: Creator<unknown[]>;
}

const CREATORS = [
  'filtersContextCreator',
  'guardsContextCreator',
  'interceptorsContextCreator',
  'pipesContextCreator',
] as const;

/** The private members of `ExternalContextCreator` the module needs that it lacks. */
export function missingNestInternals(creator: ExternalContextCreator): string[] {
  const raw = creator as unknown as Record<string, { create?: unknown } | undefined>;
  return CREATORS.filter((name) => typeof raw[name]?.create !== 'function');
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

/** Counts the guards, interceptors and pipes (global, class and method) of a handler. */
export function enhancersOf(
  creator: ExternalContextCreator,
  instance: object,
  method: unknown,
  moduleKey: string,
): { guards: number; interceptors: number; pipes: number } {
  const raw = creator as unknown as Internals;
  return {
    guards: raw.guardsContextCreator.create(instance, method, moduleKey).length,
    interceptors: raw.interceptorsContextCreator.create(instance, method, moduleKey).length,
    pipes: raw.pipesContextCreator.create(instance, method, moduleKey).length,
  };
}

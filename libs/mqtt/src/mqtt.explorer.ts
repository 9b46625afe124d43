import {
  Injectable,
  Logger,
  type ArgumentsHost,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { DiscoveryService, ExternalContextCreator, MetadataScanner } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { isObservable, lastValueFrom, type Subscription } from 'rxjs';
import { MqttParamType, type MqttArgsMetadata } from './decorators/params.decorator';
import type { MqttEventType } from './decorators/on-mqtt-event.decorator';
import type { MqttSubscribeMetadata } from './decorators/subscribe.decorator';
import { MqttPayloadError } from './errors/mqtt-payload.error';
import { MqttSubscribeError } from './errors/mqtt-subscribe.error';
import type { MqttMessage } from './interfaces/mqtt-message.interface';
import { MqttContext } from './mqtt.context';
import {
  MQTT_ARGS_METADATA,
  MQTT_CONTEXT_TYPE,
  MQTT_EVENT_METADATA,
  MQTT_LOGGER_CONTEXT,
  MQTT_SUBSCRIBE_METADATA,
} from './mqtt.constants';
import * as messages from './mqtt.messages';
import { MqttService } from './mqtt.service';
import { decodePayload } from './utils/payload.utils';
import { parseFilter } from './utils/topic.utils';

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/** Resolves handler arguments from the `[payload, MqttContext]` pair each call gets. */
const paramsFactory = {
  exchangeKeyForValue(type: number, key: unknown, args: [Buffer, MqttContext]): unknown {
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

/** The arguments of a method with no parameter decorators: `(payload: Buffer, topic, packet)`. */
const DEFAULT_ARGS: MqttArgsMetadata = {
  [`${MqttParamType.RAW_PAYLOAD}:0`]: { index: 0, pipes: [] },
  [`${MqttParamType.TOPIC}:1`]: { index: 1, pipes: [] },
  [`${MqttParamType.PACKET}:2`]: { index: 2, pipes: [] },
};

/**
 * Finds `@Subscribe()` and `@OnMqttEvent()` methods on providers and controllers at startup and
 * registers them with the service, through Nest's context creator so pipes, guards, interceptors
 * and exception filters apply as on HTTP routes.
 */
@Injectable()
export class MqttExplorer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(MQTT_LOGGER_CONTEXT);
  private readonly eventSubscriptions: Subscription[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly contextCreator: ExternalContextCreator,
    private readonly mqtt: MqttService,
  ) {}

  /** Called by Nest: discovers the handlers. */
  onModuleInit(): void {
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const explored = new Set<object>();
    for (const wrapper of wrappers) {
      const { instance } = wrapper;
      // An alias (`useExisting`) or a second token for the same instance must not register twice.
      if (wrapper.isAlias || !instance || typeof instance !== 'object' || explored.has(instance)) {
        continue;
      }
      explored.add(instance);
      this.exploreWrapper(wrapper, instance);
    }
  }

  /** Called by Nest: stops the event listeners last, so they see the shutdown's log lines. */
  onApplicationShutdown(): void {
    for (const s of this.eventSubscriptions) s.unsubscribe();
  }

  private exploreWrapper(wrapper: InstanceWrapper, instance: object): void {
    const prototype = Object.getPrototypeOf(instance) as object | null;
    if (!prototype) return;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = (prototype as Record<string, unknown>)[methodName];
      if (typeof method !== 'function') continue;
      const subscribes: MqttSubscribeMetadata[] | undefined = Reflect.getMetadata(
        MQTT_SUBSCRIBE_METADATA,
        method,
      );
      const events: MqttEventType[] | undefined = Reflect.getMetadata(MQTT_EVENT_METADATA, method);
      if (!subscribes && !events) continue;
      const name = `${instance.constructor.name}.${methodName}`;
      if (!wrapper.isDependencyTreeStatic()) {
        this.logger.warn(messages.REQUEST_SCOPED(name));
        continue;
      }
      if (subscribes) this.registerSubscriber(wrapper, instance, methodName, name, subscribes);
      if (events) this.registerEventListener(instance, methodName, name, events);
    }
  }

  private registerSubscriber(
    wrapper: InstanceWrapper,
    instance: object,
    methodName: string,
    name: string,
    subscribes: MqttSubscribeMetadata[],
  ): void {
    const ctor = instance.constructor;
    let args: MqttArgsMetadata | undefined = Reflect.getMetadata(
      MQTT_ARGS_METADATA,
      ctor,
      methodName,
    );
    if (!args || Object.keys(args).length === 0) {
      args = DEFAULT_ARGS;
      Reflect.defineMetadata(MQTT_ARGS_METADATA, args, ctor, methodName);
    }
    this.checkTopicParams(name, subscribes, args);

    const paramTypes: unknown[] =
      Reflect.getMetadata('design:paramtypes', Object.getPrototypeOf(instance), methodName) ?? [];
    // The decoding follows the type of a whole-payload @Payload(); @Payload('field') reads JSON.
    const payloadArg = Object.entries(args).find(
      ([key, arg]) => key.startsWith(`${MqttParamType.PAYLOAD}:`) && arg.data === undefined,
    )?.[1];
    const decoder = payloadDecoder(payloadArg ? paramTypes[payloadArg.index] : undefined);

    const method = (instance as Record<string, (...a: unknown[]) => unknown>)[methodName];
    // Enhancers given as classes resolve in the module that declares the handler. Nest looks for
    // that module among providers only, so a controller's would be missed (and its guards
    // silently dropped): take it from the wrapper's host, for Nest's context creator too.
    const moduleKey =
      (wrapper.host as { token?: string } | undefined)?.token ??
      this.contextCreator.getContextModuleKey(instance.constructor);
    const contextCreator = Object.create(this.contextCreator, {
      getContextModuleKey: { value: () => moduleKey },
    }) as ExternalContextCreator;
    const filters = this.exceptionFilters(instance, method, moduleKey);
    let invoke: (message: MqttMessage) => unknown;
    if (filters && !this.hasEnhancers(instance, method, moduleKey, args, filters)) {
      // No guard, interceptor, pipe or filter anywhere: call the method directly. Nest's context
      // creator would resolve every argument through promises, ~3x the cost of the whole dispatch.
      invoke = directInvoker(instance, method, args, decoder);
    } else {
      const call = contextCreator.create(
        instance,
        method,
        methodName,
        MQTT_ARGS_METADATA,
        paramsFactory,
        undefined,
        undefined,
        { guards: true, interceptors: true, filters: !filters },
        MQTT_CONTEXT_TYPE,
      ) as (payload: Buffer, ctx: MqttContext) => Promise<unknown>;
      invoke = filters
        ? (message: MqttMessage) => {
            const ctx = new MqttContext(message, decoder);
            return call(message.payload, ctx).catch((error: unknown) =>
              applyFilters(filters, error, [message.payload, ctx]),
            );
          }
        : (message: MqttMessage) => call(message.payload, new MqttContext(message, decoder));
    }

    // One registration per method, so overlapping filters of stacked @Subscribe run it once.
    this.mqtt.registerHandler({ name, subscriptions: subscribes, invoke });
  }

  /**
   * The exception filters (method, class and global) of a handler, run by the module itself:
   * Nest's own fallback would log every unhandled error with its stack on top of the module's
   * one-line report. Undefined when Nest's internals differ (filters then run the Nest way).
   */
  private exceptionFilters(
    instance: object,
    method: (...a: unknown[]) => unknown,
    moduleKey: string,
  ): FilterChain | undefined {
    const internals = this.contextCreator as unknown as {
      filtersContextCreator?: {
        create(instance: object, callback: unknown, module: string): Partial<FilterChain>;
      };
    };
    const creator = internals.filtersContextCreator;
    if (typeof creator?.create !== 'function') return undefined;
    const chain = creator.create(instance, method, moduleKey);
    return Array.isArray(chain.filters) ? (chain as FilterChain) : undefined;
  }

  /**
   * Whether any guard, interceptor, pipe (global, class, method or parameter) or exception filter
   * applies to the handler. True when Nest's internals cannot tell (then Nest's path is used).
   */
  private hasEnhancers(
    instance: object,
    method: (...a: unknown[]) => unknown,
    moduleKey: string,
    args: MqttArgsMetadata,
    filters: FilterChain,
  ): boolean {
    type Creator = { create(instance: object, callback: unknown, module: string): unknown[] };
    const internals = this.contextCreator as unknown as Record<
      string,
      Partial<Creator> | undefined
    >;
    const creators = [
      'guardsContextCreator',
      'interceptorsContextCreator',
      'pipesContextCreator',
    ].map((name) => internals[name]);
    if (creators.some((c) => typeof c?.create !== 'function')) return true;
    const found = creators.some(
      (c) => (c as Creator).create(instance, method, moduleKey).length > 0,
    );
    const paramPipes = Object.values(args).some((a) => a.pipes.length > 0);
    return found || paramPipes || filters.filters.length > 0;
  }

  private checkTopicParams(
    name: string,
    subscribes: MqttSubscribeMetadata[],
    args: MqttArgsMetadata,
  ): void {
    const keys = Object.keys(args);
    const readsAll = keys.some(
      (k) =>
        k.startsWith(`${MqttParamType.TOPIC_PARAMS}:`) || k.startsWith(`${MqttParamType.MESSAGE}:`),
    );
    const read = new Set(
      keys
        .filter((k) => k.startsWith(`${MqttParamType.TOPIC_PARAM}:`))
        .map((k) => args[k].data)
        .filter((d): d is string => d !== undefined),
    );
    const named = new Set<string>();
    for (const { filters } of subscribes) {
      for (const filter of filters) {
        let params;
        try {
          params = parseFilter(filter).params;
        } catch (error) {
          throw new MqttSubscribeError(
            messages.INVALID_FILTER(name, filter, (error as Error).message),
          );
        }
        for (const p of params) {
          named.add(p.name);
          if (!readsAll && !read.has(p.name)) {
            throw new MqttSubscribeError(messages.UNUSED_TOPIC_PARAM(name, filter, p.name));
          }
        }
      }
    }
    for (const param of read) {
      if (!named.has(param))
        throw new MqttSubscribeError(messages.PARAM_NOT_IN_FILTER(name, param));
    }
  }

  private registerEventListener(
    instance: object,
    methodName: string,
    name: string,
    types: MqttEventType[],
  ): void {
    const method = (instance as Record<string, (...a: unknown[]) => unknown>)[methodName];
    const wanted = new Set(types);
    this.eventSubscriptions.push(
      this.mqtt.events$.subscribe((event) => {
        if (!wanted.has(event.type)) return;
        try {
          const result = method.call(instance, event);
          if (result instanceof Promise) {
            result.catch((error: unknown) => this.listenerFailed(name, event.type, error));
          }
        } catch (error) {
          this.listenerFailed(name, event.type, error);
        }
      }),
    );
  }

  private listenerFailed(name: string, type: string, error: unknown): void {
    // Not through the 'log' event, so a failing @OnMqttLog listener cannot loop.
    this.logger.error(
      messages.LISTENER_FAILED(name, type, error instanceof Error ? error.message : String(error)),
    );
  }
}

/** Calls a handler with its arguments resolved synchronously: the path with no enhancers. */
function directInvoker(
  instance: object,
  method: (...a: unknown[]) => unknown,
  args: MqttArgsMetadata,
  decoder: (payload: Buffer) => unknown,
): (message: MqttMessage) => unknown {
  const params = Object.keys(args).map((key) => ({
    type: Number(key.slice(0, key.indexOf(':'))),
    index: args[key].index,
    data: args[key].data,
  }));
  const argc = params.reduce((n, p) => Math.max(n, p.index + 1), 0);
  return (message) => {
    const host: [Buffer, MqttContext] = [message.payload, new MqttContext(message, decoder)];
    const values: unknown[] = new Array(argc);
    for (const p of params)
      values[p.index] = paramsFactory.exchangeKeyForValue(p.type, p.data, host);
    return method.apply(instance, values);
  };
}

interface FilterChain {
  /** Nest's resolved filters, most specific first (method, class, global). */
  filters: Array<{
    func: (exception: unknown, host: ArgumentsHost) => unknown;
    exceptionMetatypes: Type<unknown>[];
  }>;
}

/**
 * Gives an error to the first exception filter whose `@Catch()` matches it, as Nest does for
 * HTTP routes. A filter that catches the error has handled it (no error report, no dead
 * letter) unless it throws, rejects or returns an Observable that errors; what it returns is
 * the handler's result.
 */
function applyFilters(chain: FilterChain, error: unknown, args: [Buffer, MqttContext]): unknown {
  const filter = chain.filters.find(
    ({ exceptionMetatypes }) =>
      exceptionMetatypes.length === 0 || exceptionMetatypes.some((type) => error instanceof type),
  );
  if (!filter) throw error;
  const result = filter.func(error, argumentsHost(args));
  // What the filter returns is the handler's result (so it can be an MQTT 5 reply).
  return isObservable(result) ? lastValueFrom(result, { defaultValue: undefined }) : result;
}

function argumentsHost(args: [Buffer, MqttContext]): ArgumentsHost {
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

/** Picks the payload decoding from the `@Payload()` parameter's declared type. */
function payloadDecoder(metatype: unknown): (payload: Buffer) => unknown {
  if (metatype === Buffer) return (p) => p;
  if (metatype === String) return (p) => p.toString('utf8');
  if (
    typeof metatype !== 'function' ||
    metatype === Object ||
    metatype === Array ||
    metatype === Number ||
    metatype === Boolean
  ) {
    return decodePayload;
  }
  const cls = metatype as Type<object>;
  return (payload) => {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      throw new MqttPayloadError(messages.PAYLOAD_NOT_JSON(cls.name));
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new MqttPayloadError(
        messages.PAYLOAD_INVALID(`expected a JSON object for ${cls.name}`),
      );
    }
    const instance = plainToInstance(cls, json);
    const errors = validateSync(instance, { forbidUnknownValues: false });
    if (errors.length > 0) {
      throw new MqttPayloadError(messages.PAYLOAD_INVALID(formatErrors(errors)));
    }
    return instance;
  };
}

function formatErrors(errors: ValidationError[], prefix = ''): string {
  return errors
    .flatMap((e) => {
      const path = `${prefix}${e.property}`;
      const own = Object.values(e.constraints ?? {}).map((c) => `${path}: ${c}`);
      const nested = e.children?.length ? [formatErrors(e.children, `${path}.`)] : [];
      return [...own, ...nested];
    })
    .join('; ');
}

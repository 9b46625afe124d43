import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DiscoveryService, ExternalContextCreator, MetadataScanner, ModuleRef } from '@nestjs/core';
import type { Subscription } from 'rxjs';
import { MqttParamType, type MqttArgsMetadata } from '../decorators/params.decorator';
import type { MqttEventType } from '../decorators/on-mqtt-event.decorator';
import type { MqttSubscribeMetadata } from '../decorators/subscribe.decorator';
import { MqttConnectionError } from '../errors/mqtt-connection.error';
import { MqttSubscribeError } from '../errors/mqtt-subscribe.error';
import type { MqttConfig } from '../interfaces/mqtt-config.interface';
import type { MqttModuleOptions } from '../interfaces/mqtt-module-options.interface';
import {
  MQTT_ARGS_METADATA,
  MQTT_CONNECTION_CONFIG,
  MQTT_EVENT_METADATA,
  MQTT_MODULE_OPTIONS,
  MQTT_SUBSCRIBE_METADATA,
} from '../mqtt.constants';
import * as messages from '../mqtt.messages';
import { describeError } from '../utils/describe-error';
import { getMqttServiceToken } from '../mqtt.tokens';
import { MqttEventBus } from '../mqtt-event-bus';
import { MqttRouter } from '../routing/mqtt.router';
import { resolveConfigTopics, type ConfigLookup } from './config-topics';
import { checkTopicParams, payloadTypeMissing } from './handler-checks';
import { createInvoker } from './handler-invoker';
import { handlerPlan } from './handler-plan';
import { missingNestInternals, nestConsumers, type NestConsumers } from './nest.internals';

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/** The arguments of a method with no parameter decorators: `(payload: Buffer, topic, packet)`. */
const DEFAULT_ARGS: MqttArgsMetadata = {
  [`${MqttParamType.RAW_PAYLOAD}:0`]: { index: 0, pipes: [] },
  [`${MqttParamType.TOPIC}:1`]: { index: 1, pipes: [] },
  [`${MqttParamType.PACKET}:2`]: { index: 2, pipes: [] },
};

/**
 * Finds `@Subscribe()` and `@OnMqttEvent()` methods on providers and controllers at startup and
 * registers them with this connection's router (each connection explores for its own handlers),
 * with Nest's pipes, guards, interceptors and exception filters applied as on HTTP routes.
 */
@Injectable()
export class MqttExplorer implements OnModuleInit, OnApplicationShutdown {
  private readonly eventSubscriptions: Subscription[] = [];
  /** "Subscribed X to ..." lines, logged once discovery is done. */
  private readonly subscribed: string[] = [];
  /** Nest's guard, interceptor and pipe runners, once bootstrap found them. */
  private nest!: NestConsumers;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly contextCreator: ExternalContextCreator,
    private readonly moduleRef: ModuleRef,
    private readonly router: MqttRouter,
    private readonly bus: MqttEventBus,
    @Inject(MQTT_CONNECTION_CONFIG) private readonly config: MqttConfig,
    @Inject(MQTT_MODULE_OPTIONS) private readonly options: MqttModuleOptions,
  ) {}

  /**
   * Called by Nest: discovers the handlers, then logs what was held for the listeners (the
   * configuration warnings) and the `Subscribed` lines; all before the connection starts (at
   * `onApplicationBootstrap`). The held lines are logged even when discovery fails.
   */
  onModuleInit(): void {
    try {
      this.discover();
    } finally {
      this.bus.listenersReady();
    }
    // Once every listener is in place, so `@OnMqttLog()` sees these lines too.
    for (const line of this.subscribed.splice(0)) this.bus.log('log', line);
  }

  private discover(): void {
    const missing = missingNestInternals(this.contextCreator);
    if (missing.length > 0) throw new MqttConnectionError(messages.NEST_INTERNALS_CHANGED(missing));
    this.nest = nestConsumers(this.contextCreator);
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
        this.bus.log('warn', messages.REQUEST_SCOPED(name));
        continue;
      }
      const mine = subscribes?.filter((s) => this.isMine(name, s));
      if (mine?.length) this.registerSubscriber(wrapper, instance, methodName, name, mine);
      if (events) this.registerEventListener(instance, methodName, name, events);
    }
  }

  /** Whether a `@Subscribe()` is for this connection; an unknown connection is an error. */
  private isMine(handler: string, metadata: MqttSubscribeMetadata): boolean {
    const wanted = metadata.options.connection ?? 'default';
    if (wanted === this.bus.connectionName) return true;
    try {
      this.moduleRef.get(getMqttServiceToken(wanted), { strict: false });
    } catch {
      throw new MqttSubscribeError(messages.MISSING_CONNECTION(handler, wanted));
    }
    return false;
  }

  private registerSubscriber(
    wrapper: InstanceWrapper,
    instance: object,
    methodName: string,
    name: string,
    declared: MqttSubscribeMetadata[],
  ): void {
    const lookup = this.configLookup();
    const subscribes = declared.map((s) => ({
      options: s.options,
      filters: s.filters.map((f) => resolveConfigTopics(name, f, lookup)),
    }));
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
    checkTopicParams(name, subscribes, args);

    // Enhancers given as classes resolve in the module that declares the handler: the wrapper's
    // host. (Nest's getContextModuleKey() looks among providers only, so for a controller it
    // finds no module, and the controller's guards would be silently dropped.)
    const moduleKey =
      (wrapper.host as { token?: string } | undefined)?.token ??
      this.contextCreator.getContextModuleKey(instance.constructor);
    const plan = handlerPlan(this.contextCreator, {
      instance,
      methodName,
      args,
      moduleKey,
      validation: this.options.validation ?? {},
    });
    if (payloadTypeMissing(plan)) this.bus.log('warn', messages.NO_DECORATOR_METADATA(name));
    const invoke = createInvoker(plan, this.nest);
    // One registration per method, so overlapping filters of stacked @Subscribe run it once.
    const { handler } = this.router.register(
      { name, subscriptions: subscribes, invoke },
      this.config.sharedGroup,
    );
    this.subscribed.push(messages.SUBSCRIBED(name, handler.filters.join(', ')));
  }

  /** Reads `${KEY}` values through ConfigService, when the app has one. */
  private configLookup(): ConfigLookup | undefined {
    try {
      const config = this.moduleRef.get(ConfigService, { strict: false });
      return (key) => config.get(key);
    } catch {
      return undefined;
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
      this.bus.events$.subscribe((event) => {
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
    this.bus.logQuietly('error', messages.LISTENER_FAILED(name, type, describeError(error)));
  }
}

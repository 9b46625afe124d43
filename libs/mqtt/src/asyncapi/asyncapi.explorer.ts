import { MetadataScanner, type DiscoveryService, type ModulesContainer } from '@nestjs/core';
import { MqttParamType, type MqttArgsMetadata } from '../decorators/params.decorator';
import type { MqttSubscribeMetadata } from '../decorators/subscribe.decorator';
import { MQTT_ARGS_METADATA, MQTT_SUBSCRIBE_METADATA } from '../mqtt.constants';
import type { ClassType } from './asyncapi.schema';
import { MQTT_PUBLISHES_METADATA, type MqttPublishesMetadata } from './publishes.decorator';

/** How a handler reads the payload, for its message schema. */
export type PayloadDeclaration =
  /** The handler does not read the payload (or reads the raw bytes): any payload. */
  | { kind: 'unread' }
  /** `@Payload() x: T`: the whole payload, decoded as T. */
  | { kind: 'whole'; type: unknown }
  /** `@Payload('field') x: T`: JSON objects whose listed fields have these types. */
  | { kind: 'fields'; fields: Record<string, unknown> };

/** One `@Subscribe()` method, as the module registers it. */
export interface ExploredHandler {
  /** `Class.method`. */
  readonly name: string;
  readonly subscribes: readonly MqttSubscribeMetadata[];
  readonly payload: PayloadDeclaration;
}

/** One `@MqttPublishes()` declaration, on a method or on a class. */
export interface ExploredPublish extends MqttPublishesMetadata {
  /** `Class.method`, or `Class` for a class-level declaration. */
  readonly declaredBy: string;
}

/** What an application's providers and controllers say about its MQTT API. */
export interface ExploredApi {
  readonly handlers: ExploredHandler[];
  readonly publishes: ExploredPublish[];
}

type Wrapper = ReturnType<DiscoveryService['getProviders']>[number];

/**
 * Reads the MQTT metadata of every provider and controller class, from the classes alone, so it
 * works on an app created with `{ preview: true }` (nothing instantiated) as on a running one.
 * Request-scoped classes are left out, as the module leaves their handlers out.
 */
export function exploreMqttApi(modules: ModulesContainer): ExploredApi {
  const scanner = new MetadataScanner();
  const seen = new Set<ClassType>();
  const api: ExploredApi = { handlers: [], publishes: [] };
  for (const module of modules.values()) {
    for (const wrapper of [...module.providers.values(), ...module.controllers.values()]) {
      const cls = classOf(wrapper);
      if (!cls || seen.has(cls) || !wrapper.isDependencyTreeStatic()) continue;
      seen.add(cls);
      exploreClass(cls, scanner, api);
    }
  }
  return api;
}

function classOf(wrapper: Wrapper): ClassType | undefined {
  if (wrapper.isAlias) return undefined;
  const { instance } = wrapper;
  if (instance && typeof instance === 'object')
    return (instance as object).constructor as ClassType;
  // A class provider not instantiated (preview mode); a factory's metatype is the factory.
  if (!wrapper.inject && typeof wrapper.metatype === 'function')
    return wrapper.metatype as ClassType;
  return undefined;
}

function exploreClass(cls: ClassType, scanner: MetadataScanner, api: ExploredApi): void {
  const prototype = cls.prototype as Record<string, unknown> | undefined;
  if (!prototype) return;
  const onClass: MqttPublishesMetadata[] = Reflect.getMetadata(MQTT_PUBLISHES_METADATA, cls) ?? [];
  for (const entry of onClass) api.publishes.push({ ...entry, declaredBy: cls.name });
  for (const methodName of scanner.getAllMethodNames(prototype)) {
    const method = prototype[methodName];
    if (typeof method !== 'function') continue;
    const name = `${cls.name}.${methodName}`;
    const publishes: MqttPublishesMetadata[] =
      Reflect.getMetadata(MQTT_PUBLISHES_METADATA, method) ?? [];
    for (const entry of publishes) api.publishes.push({ ...entry, declaredBy: name });
    const subscribes: MqttSubscribeMetadata[] | undefined = Reflect.getMetadata(
      MQTT_SUBSCRIBE_METADATA,
      method,
    );
    if (subscribes) {
      api.handlers.push({ name, subscribes, payload: payloadOf(cls, prototype, methodName) });
    }
  }
}

function payloadOf(cls: ClassType, prototype: object, methodName: string): PayloadDeclaration {
  const args: MqttArgsMetadata = Reflect.getMetadata(MQTT_ARGS_METADATA, cls, methodName) ?? {};
  const types: unknown[] = Reflect.getMetadata('design:paramtypes', prototype, methodName) ?? [];
  const payloadArgs = Object.entries(args)
    .filter(([key]) => key.startsWith(`${MqttParamType.PAYLOAD}:`))
    .map(([, arg]) => arg);
  const whole = payloadArgs.find((arg) => arg.data === undefined);
  if (whole) return { kind: 'whole', type: types[whole.index] };
  if (payloadArgs.length === 0) return { kind: 'unread' };
  const fields: Record<string, unknown> = {};
  for (const arg of payloadArgs) fields[arg.data as string] = types[arg.index];
  return { kind: 'fields', fields };
}

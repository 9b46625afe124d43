/** Helpers of the handler invoker specs (not part of the package: excluded from its build). */
import type { Type } from '@nestjs/common';
import { ExternalContextCreator, ModulesContainer } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { IPublishPacket } from 'mqtt';
import type { MqttArgsMetadata } from '../decorators/params.decorator';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import { MQTT_ARGS_METADATA } from '../mqtt.constants';
import { createInvoker, type HandlerPlan } from './handler-invoker';
import { handlerPlan } from './handler-plan';
import { nestConsumers } from './nest.internals';

/** A message on `dev/<id>/data` matched by `dev/+id/data`, with MQTT 5 properties. */
export function message(payload: unknown = { n: 7, name: 'probe' }, id = 'd1'): MqttMessage {
  const packet = {
    cmd: 'publish',
    topic: `dev/${id}/data`,
    qos: 1,
    dup: false,
    retain: false,
    payload: Buffer.from(JSON.stringify(payload)),
    properties: { contentType: 'application/json', userProperties: { tenant: 't1' } },
  } as IPublishPacket;
  return {
    topic: packet.topic,
    payload: packet.payload as Buffer,
    packet,
    params: { id },
    filter: 'dev/+id/data',
  };
}

/** Handlers of one Nest testing module, turned into invokers the way the explorer does. */
export interface Invokers {
  creator: ExternalContextCreator;
  plan(methodName: string): HandlerPlan;
  invoker(methodName: string): (message: MqttMessage) => unknown;
  get<T>(type: Type<T>): T;
}

/** Compiles a module with `host` (and `providers`) and builds invokers of `host`'s methods. */
export async function invokersOf(host: Type, providers: Type[] = []): Promise<Invokers> {
  const app = await Test.createTestingModule({ providers: [host, ...providers] }).compile();
  const creator = app.get(ExternalContextCreator);
  const modules = [...app.get(ModulesContainer).entries()];
  const moduleKey = modules.find(([, ref]) => ref.providers.has(host))?.[0] ?? '';
  const instance = app.get<object>(host);
  const plan = (methodName: string): HandlerPlan => {
    const args: MqttArgsMetadata = Reflect.getMetadata(MQTT_ARGS_METADATA, host, methodName) ?? {};
    return handlerPlan(creator, { instance, methodName, args, moduleKey, validation: {} });
  };
  return {
    creator,
    plan,
    invoker: (methodName) => createInvoker(plan(methodName), nestConsumers(creator)),
    get: (type) => app.get(type),
  };
}

import type { PipeTransform, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { MQTT_ARGS_METADATA } from '../mqtt.constants';

/**
 * Kinds of handler arguments. Numeric, as Nest's ExternalContextCreator expects; the
 * payload uses Nest's number for a body (3) and a topic parameter that for a route parameter (5),
 * so pipes see `type: 'body'` / `'param'` and a global `ValidationPipe` validates payload DTOs as
 * it validates HTTP bodies (it skips `'custom'` arguments).
 */
export enum MqttParamType {
  PAYLOAD = 3,
  TOPIC_PARAM = 5,
  TOPIC = 20,
  TOPIC_PARAMS = 21,
  PACKET = 22,
  USER_PROPERTIES = 23,
  PROPERTIES = 24,
  RAW_PAYLOAD = 25,
  MESSAGE = 26,
}

/** What each argument decorator records (Nest's route-argument layout). */
export type MqttArgsMetadata = Record<
  string,
  { index: number; data?: string; pipes: Array<Type<PipeTransform> | PipeTransform> }
>;

type Pipe = Type<PipeTransform> | PipeTransform;

function argDecorator(type: MqttParamType, data?: string, pipes: Pipe[] = []): ParameterDecorator {
  return (target, key, index) => {
    if (key === undefined) return;
    const args: MqttArgsMetadata =
      Reflect.getMetadata(MQTT_ARGS_METADATA, target.constructor, key) ?? {};
    Reflect.defineMetadata(
      MQTT_ARGS_METADATA,
      { ...args, [`${type}:${index}`]: { index, data, pipes } },
      target.constructor,
      key,
    );
    recordPipeClasses(target.constructor, key, index, pipes);
  };
}

/**
 * Pipes given as classes (`@TopicParam('id', ParseIntPipe)`) are also recorded under Nest's
 * route-argument key, where Nest's scanner finds them for every provider and controller and
 * makes each an injectable of the handler's module, as for `@Param('id', ParseIntPipe)`;
 * otherwise Nest would have no instance of them to give, and they would be dropped silently.
 * Nothing else reads that key for a method that is not also an HTTP or microservice handler.
 */
function recordPipeClasses(host: object, key: string | symbol, index: number, pipes: Pipe[]) {
  const classes = pipes.filter((p) => typeof p === 'function');
  if (classes.length === 0) return;
  const recorded: Record<string, unknown> =
    Reflect.getMetadata(ROUTE_ARGS_METADATA, host, key) ?? {};
  Reflect.defineMetadata(
    ROUTE_ARGS_METADATA,
    { ...recorded, [`nestjs-mqtt-pipes:${index}`]: { index, pipes: classes } },
    host,
    key,
  );
}

function split(dataOrPipe: string | Pipe | undefined, pipes: Pipe[]): [string | undefined, Pipe[]] {
  if (dataOrPipe === undefined || typeof dataOrPipe === 'string') return [dataOrPipe, pipes];
  return [undefined, [dataOrPipe, ...pipes]];
}

/**
 * The payload, decoded by the parameter's type: `Buffer` gets the raw bytes, `string` the UTF-8
 * text, a class the JSON turned into that class (class-transformer) and validated
 * (class-validator); any other type gets the JSON when it parses, else the text.
 * `@Payload('field')` picks one property of the decoded JSON. Pipes run after decoding.
 */
export function Payload(property?: string | Pipe, ...pipes: Pipe[]): ParameterDecorator {
  return argDecorator(MqttParamType.PAYLOAD, ...split(property, pipes));
}

/** The topic the message was published to. */
export function Topic(...pipes: Pipe[]): ParameterDecorator {
  return argDecorator(MqttParamType.TOPIC, undefined, pipes);
}

/** The value of a named wildcard of the filter: `@TopicParam('deviceId')` for `sensors/+deviceId/temp`. */
export function TopicParam(name: string, ...pipes: Pipe[]): ParameterDecorator {
  return argDecorator(MqttParamType.TOPIC_PARAM, name, pipes);
}

/** Every named wildcard value of the filter, as an object. */
export function TopicParams(...pipes: Pipe[]): ParameterDecorator {
  return argDecorator(MqttParamType.TOPIC_PARAMS, undefined, pipes);
}

/** The MQTT.js PUBLISH packet (qos, retain, dup, properties). */
export function Packet(): ParameterDecorator {
  return argDecorator(MqttParamType.PACKET);
}

/** The whole `MqttMessage` (topic, payload, packet, params, filter). */
export function Message(): ParameterDecorator {
  return argDecorator(MqttParamType.MESSAGE);
}

/** MQTT 5 user properties of the message (`{}` when there are none), or one of them by name. */
export function UserProperties(name?: string): ParameterDecorator {
  return argDecorator(MqttParamType.USER_PROPERTIES, name);
}

/**
 * MQTT 5 properties of the message (`{}` when there are none), or one by name:
 * `@MessageProperties('contentType')`, `'responseTopic'`, `'correlationData'`, ...
 */
export function MessageProperties(name?: string): ParameterDecorator {
  return argDecorator(MqttParamType.PROPERTIES, name);
}

import type { PipeTransform } from '@nestjs/common';
import { MqttParamType } from '../decorators/params.decorator';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import { MqttContext } from '../mqtt.context';
import { RoutedMessage } from '../routing/routed-message';
import type { PayloadDecoder } from './payload-decoder';

/** One parameter of a handler: what it reads, and what Nest's pipes are told about it. */
export interface ParamPlan {
  /** Its position in the method's parameter list. */
  index: number;
  type: MqttParamType;
  /** The decorator's argument: `@Payload('field')`, `@TopicParam('id')`, ... */
  data: string | undefined;
  /** Its declared type (`design:paramtypes`), as Nest's pipes get it. */
  metatype: unknown;
  /** Its own pipes (`@Payload(pipe)`), as instances. */
  pipes: readonly PipeTransform[];
}

/** Resolves a handler's arguments from a message: the same function whatever enhancers apply. */
export type ArgsResolver = (message: MqttMessage, ctx: MqttContext | undefined) => unknown[];

/**
 * Builds the one function that resolves a handler's arguments, synchronously. The common
 * arguments are read straight off the message; an `MqttContext` is made only when one is needed
 * and none was given. The payload is decoded once however many parameters read it, and once in
 * all with guards or interceptors that called `ctx.getPayload()` when the call's context is
 * given.
 */
export function argsResolver(params: readonly ParamPlan[], decoder: PayloadDecoder): ArgsResolver {
  const argc = params.reduce((n, p) => Math.max(n, p.index + 1), 0);
  const count = params.length;
  // The payload is decoded here, once for all its parameters; the rest but user properties are
  // read as the straight call path reads them.
  const readers = params.map((p) =>
    p.type === MqttParamType.PAYLOAD ? undefined : straightReader(p.type, p.data, decoder),
  );
  return (message, given) => {
    const values: unknown[] = new Array(argc);
    let decoded: unknown = NOT_DECODED;
    let ctx = given;
    for (let k = 0; k < count; k++) {
      const p = params[k];
      const read = readers[k];
      if (read !== undefined) {
        values[p.index] = read(message);
      } else if (p.type === MqttParamType.PAYLOAD) {
        if (decoded === NOT_DECODED) {
          decoded = ctx === undefined ? decoder(message.payload) : ctx.getPayload();
        }
        values[p.index] =
          p.data === undefined ? decoded : (decoded as Record<string, unknown> | null)?.[p.data];
      } else {
        ctx ??= new MqttContext(message, decoder);
        values[p.index] = contextArg(p.type, p.data, ctx);
      }
    }
    return values;
  };
}

const NOT_DECODED = Symbol('not decoded');

/** Reads one argument straight off a message. */
export type ArgReader = (message: MqttMessage) => unknown;

const NOTHING: ArgReader = () => undefined;

/**
 * One reader per parameter position (one that reads `undefined` where no decorator is), when
 * every parameter is read straight off the message, without an `MqttContext`, and at most one
 * decodes the payload: the handler can then be called with its arguments rather than through an
 * argument array, and no context is made. Each reader gives what `argsResolver` gives without a
 * given context. Undefined for any other shape (user properties, two payload parameters).
 */
export function straightReaders(
  params: readonly ParamPlan[],
  decoder: PayloadDecoder,
): ArgReader[] | undefined {
  const argc = params.reduce((n, p) => Math.max(n, p.index + 1), 0);
  const readers: ArgReader[] = new Array<ArgReader>(argc).fill(NOTHING);
  let decoding = 0;
  for (const { index, type, data } of params) {
    if (type === MqttParamType.PAYLOAD && ++decoding > 1) return undefined;
    const reader = straightReader(type, data, decoder);
    if (!reader) return undefined;
    readers[index] = reader;
  }
  return readers;
}

function straightReader(
  type: MqttParamType,
  data: string | undefined,
  decoder: PayloadDecoder,
): ArgReader | undefined {
  switch (type) {
    case MqttParamType.PAYLOAD:
      return data === undefined
        ? (message) => decoder(message.payload)
        : (message) => (decoder(message.payload) as Record<string, unknown> | null)?.[data];
    case MqttParamType.TOPIC_PARAM:
      return data === undefined ? NOTHING : (message) => topicParamOf(message, data);
    case MqttParamType.RAW_PAYLOAD:
      return (message) => message.payload;
    case MqttParamType.TOPIC:
      return (message) => message.topic;
    case MqttParamType.TOPIC_PARAMS:
    case MqttParamType.PACKET:
    case MqttParamType.MESSAGE:
    case MqttParamType.PROPERTIES:
      return (message) => messageArg(type, data, message);
    default:
      return undefined;
  }
}

/** One named wildcard's value; a routed message reads it without building the whole record. */
function topicParamOf(message: MqttMessage, name: string): string | undefined {
  return message instanceof RoutedMessage ? message.param(name) : message.params[name];
}

/** The arguments read through the call's context: user properties. */
function contextArg(type: MqttParamType, data: string | undefined, ctx: MqttContext): unknown {
  if (type !== MqttParamType.USER_PROPERTIES) return undefined;
  const props = ctx.getUserProperties();
  return data === undefined ? props : props[data];
}

/** The less common arguments that the message holds itself. */
function messageArg(type: MqttParamType, data: string | undefined, message: MqttMessage): unknown {
  switch (type) {
    case MqttParamType.TOPIC_PARAMS:
      return message.params;
    case MqttParamType.PACKET:
      return message.packet;
    case MqttParamType.MESSAGE:
      return message;
    case MqttParamType.PROPERTIES: {
      const props = (message.packet.properties ?? {}) as Record<string, unknown>;
      return data === undefined ? props : props[data];
    }
    default:
      return undefined;
  }
}

import type { Type } from '@nestjs/common';
import { instanceToPlain, plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { MqttPayloadError } from '../errors/mqtt-payload.error';
import type { MqttValidationOptions } from '../interfaces/mqtt-module-options.interface';
import * as messages from '../mqtt.messages';
import { decodePayload, utf8Text } from '../utils/payload.utils';

/** Turns the bytes of a message into what the handler's `@Payload()` parameter asks for. */
export type PayloadDecoder = (payload: Buffer) => unknown;

const asIs: PayloadDecoder = (p) => p;
const asText: PayloadDecoder = (p) => utf8Text(p, 'a string');

/**
 * Picks the decoding from the `@Payload()` parameter's declared type: Buffer and string as they
 * are; a class: JSON turned into that class and validated (once: by the module, or, when a pipe
 * applies to the payload, by that pipe alone); anything else: JSON, or text when not JSON.
 */
export function payloadDecoder(
  metatype: unknown,
  validation: MqttValidationOptions | false,
  pipesApply: boolean,
): PayloadDecoder {
  if (metatype === Buffer) return asIs;
  if (metatype === String) return asText;
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
  // What the payload is read as, for the "not UTF-8" error; built once, not per message.
  const wanted = `JSON for ${cls.name}`;
  // A pipe (such as a global ValidationPipe) gets the parsed JSON and does the rest itself.
  if (pipesApply || validation === false) {
    return (payload) => parseObject(payload, cls, wanted, true);
  }
  const { transform = true, ...validatorOptions } = validation;
  const options = { forbidUnknownValues: false, ...validatorOptions };
  // Options only when groups are set: class-transformer merges what it is given into its
  // defaults on every call, and an explicit `groups: undefined` takes other paths than none.
  const transformOptions = options.groups === undefined ? undefined : { groups: options.groups };
  return (payload) => {
    // plainToInstance skips `__proto__` and `constructor` itself: no reviver needed here.
    const instance = plainToInstance(
      cls,
      parseObject(payload, cls, wanted, false),
      transformOptions,
    );
    const errors = validateSync(instance, options);
    if (errors.length > 0) {
      throw new MqttPayloadError(messages.PAYLOAD_INVALID(cls.name, formatErrors(errors)));
    }
    return transform ? instance : instanceToPlain(instance, { groups: options.groups });
  };
}

/**
 * Parses a JSON object; `guard` drops `__proto__`, `constructor` and `prototype` keys, for an
 * object handed on as it is (to a pipe, or to the handler), where a careless merge could reach a
 * prototype through them.
 */
function parseObject(payload: Buffer, cls: Type<object>, wanted: string, guard: boolean): object {
  let json: unknown;
  try {
    const text = utf8Text(payload, wanted);
    json = JSON.parse(text, guard && UNSAFE_KEY.test(text) ? withoutUnsafeKeys : undefined);
  } catch (error) {
    if (error instanceof MqttPayloadError) throw error;
    throw new MqttPayloadError(messages.PAYLOAD_NOT_JSON(cls.name));
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new MqttPayloadError(
      messages.PAYLOAD_INVALID(cls.name, `expected a JSON object, got ${describe(json)}`),
    );
  }
  return json;
}

const UNSAFE_KEY = /"(__proto__|constructor|prototype)"/;

function withoutUnsafeKeys(key: string, value: unknown): unknown {
  return key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : value;
}

function describe(json: unknown): string {
  if (json === null) return 'null';
  return Array.isArray(json) ? 'an array' : `a ${typeof json}`;
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

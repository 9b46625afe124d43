import {
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { brokerUrl } from './mqtt-config.broker-url';
import * as parsers from './mqtt-config.values';
import type { MqttTextOptions, MqttValueParser } from './mqtt-config.values';

const PARSERS = Symbol('nestjs-mqtt:config-value-parsers');

type WithParsers = { [PARSERS]?: ReadonlyMap<string, MqttValueParser> };

/** A class, as decorators see it. */
export type MqttDtoClass = abstract new (...args: never[]) => object;

function parserMap(target: object): ReadonlyMap<string, MqttValueParser> | undefined {
  return (target as WithParsers)[PARSERS];
}

/**
 * Validates a property with a value parser: accepts what the parser accepts (env
 * strings and native values), and reports the parser's own message, never
 * class-validator's default text (which would print `$value`, even a secret). The
 * parser is kept on the class, so that {@link getMqttValueParser} can later turn the
 * validated value into its native form.
 */
export function IsMqttValue(
  parser: MqttValueParser,
  name = 'isMqttValue',
  validationOptions?: ValidationOptions,
): PropertyDecorator {
  return (target: object, propertyKey: string | symbol) => {
    const property = String(propertyKey);
    const ctor = target.constructor as MqttDtoClass & WithParsers;
    // A copy per decorated property: a subclass never changes its parent's map.
    const next = new Map(parserMap(ctor) ?? []);
    next.set(property, parser);
    Object.defineProperty(ctor, PARSERS, { value: next, configurable: true });

    registerDecorator({
      name,
      target: ctor,
      propertyName: property,
      options: validationOptions,
      validator: {
        validate: (value: unknown, args?: ValidationArguments) =>
          parser(args?.property ?? property, value).ok,
        defaultMessage: (args?: ValidationArguments) => {
          const result = parser(args?.property ?? property, args?.value);
          return result.ok ? `${property} is invalid.` : result.message;
        },
      },
    });
  };
}

/**
 * The value parser that an `@Is…` decorator of this file put on `dto`'s property
 * `key`, or `undefined` when the property has none.
 */
export function getMqttValueParser(dto: MqttDtoClass, key: string): MqttValueParser | undefined {
  return parserMap(dto)?.get(key);
}

/** A boolean: native, or true/false, 1/0, yes/no in any case. */
export const IsEnvBoolean = (options?: ValidationOptions) =>
  IsMqttValue(parsers.envBoolean(), 'isEnvBoolean', options);

/** A whole number from `min` to `max`: native, or a string of decimal digits. */
export const IsEnvInt = (min: number, max: number, options?: ValidationOptions) =>
  IsMqttValue(parsers.envInt(min, max), 'isEnvInt', options);

/** Seconds from `min` to `max`, fractions allowed: native, or a decimal string (`0.5`). */
export const IsEnvSeconds = (min: number, max: number, options?: ValidationOptions) =>
  IsMqttValue(parsers.envSeconds(min, max), 'isEnvSeconds', options);

/** One of `allowed`, in any case. */
export const IsOneOf = (allowed: readonly string[], options?: ValidationOptions) =>
  IsMqttValue(parsers.oneOf(allowed), 'isOneOf', options);

/** A string; see {@link MqttTextOptions} for trimming, secrets and length. */
export const IsEnvString = (textOptions?: MqttTextOptions, options?: ValidationOptions) =>
  IsMqttValue(parsers.text(textOptions), 'isEnvString', options);

/** A host name, IP address or mqtt/mqtts/ws/wss URL without credentials. */
export const IsBrokerUrl = (options?: ValidationOptions) =>
  IsMqttValue(brokerUrl(), 'isBrokerUrl', options);

/** MQTTv31, MQTTv311, MQTTv5 or 3, 4, 5. */
export const IsProtocolVersion = (options?: ValidationOptions) =>
  IsMqttValue(parsers.protocolVersion(), 'isProtocolVersion', options);

/** CERT_REQUIRED, CERT_OPTIONAL, CERT_NONE (or Python's spellings and numbers). */
export const IsCertReqs = (options?: ValidationOptions) =>
  IsMqttValue(parsers.certReqs(), 'isCertReqs', options);

/** A TLS version (Node's or Python's spelling). */
export const IsTlsVersion = (options?: ValidationOptions) =>
  IsMqttValue(parsers.tlsVersion(), 'isTlsVersion', options);

/** A topic name without wildcards. */
export const IsTopicName = (options?: ValidationOptions) =>
  IsMqttValue(parsers.topicName(), 'isTopicName', options);

/** A shared-subscription group name. */
export const IsSharedGroup = (options?: ValidationOptions) =>
  IsMqttValue(parsers.sharedGroup(), 'isSharedGroup', options);

/** A websocket path starting with `/`. */
export const IsWsPath = (options?: ValidationOptions) =>
  IsMqttValue(parsers.wsPath(), 'isWsPath', options);

/** A will payload: string, finite number or Buffer. */
export const IsWillPayload = (options?: ValidationOptions) =>
  IsMqttValue(parsers.willPayload(), 'isWillPayload', options);

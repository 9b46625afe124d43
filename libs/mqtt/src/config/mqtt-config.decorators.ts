import {
  registerDecorator,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { ownConstraintInstance } from './class-validator.internals';
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

type ConstraintClass = new () => object;

/**
 * One class-validator constraint class per decorator name (`isEnvInt`, ...), shared by every
 * property so decorated; the parser travels in the metadata's `constraints`. Given a plain
 * `validator` object, `registerDecorator` makes a new class per property: the ~40 keys of
 * MqttConfigDto then became ~40 hidden classes at class-validator's `instance.validate(...)`
 * call, and every payload DTO validated after them ran ~5% more instructions
 * (docs/benchmarks.md, "This round").
 * Memoised by name: building a class registers it with class-validator, which is global. Each
 * class gets an instance of its own, out of class-validator's container, which payload DTOs'
 * rules would otherwise search past (class-validator.internals.ts).
 */
const constraintClasses = new Map<string, ConstraintClass>();

function constraintClass(name: string): ConstraintClass {
  const known = constraintClasses.get(name);
  if (known) return known;
  @ValidatorConstraint({ name })
  class MqttValueConstraint {
    validate(value: unknown, args: ValidationArguments): boolean {
      return parserOf(args)(args.property, value).ok;
    }
    defaultMessage(args: ValidationArguments): string {
      const result = parserOf(args)(args.property, args.value);
      return result.ok ? `${args.property} is invalid.` : result.message;
    }
  }
  ownConstraintInstance(MqttValueConstraint);
  constraintClasses.set(name, MqttValueConstraint);
  return MqttValueConstraint;
}

function parserOf(args: ValidationArguments): MqttValueParser {
  return args.constraints[0] as MqttValueParser;
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
      constraints: [parser],
      validator: constraintClass(name),
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

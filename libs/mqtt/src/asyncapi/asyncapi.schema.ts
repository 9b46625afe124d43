import { getMetadataStorage, ValidationTypes } from 'class-validator';

/** A class, as metadata is read from it (abstract ones included). */
export type ClassType = abstract new (...args: never[]) => unknown;

type ValidationMetadata = ReturnType<
  ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']
>[number];
import { transformerTypeOf } from './asyncapi.class-transformer';
import type { AsyncApiSchema } from './asyncapi.interfaces';

/**
 * Named schemas collected while converting classes: `components.schemas` of the document.
 * Each class gets one entry, named after it (`Name_2` for a second class of the same name).
 */
export class SchemaRegistry {
  /** The schemas by name, in the order they were first met. */
  readonly schemas: Record<string, AsyncApiSchema> = {};
  private readonly names = new Map<ClassType, string>();

  /** A `$ref` to the schema of `cls`, converting it (and the classes it nests) the first time. */
  refOf(cls: ClassType): AsyncApiSchema {
    let name = this.names.get(cls);
    if (name === undefined) {
      name = this.freeName(cls.name || 'Anonymous');
      this.names.set(cls, name);
      // Registered before converting, so a class that nests itself refers to its own entry.
      this.schemas[name] = {};
      this.schemas[name] = classSchema(cls, this);
    }
    return { $ref: `#/components/schemas/${name}` };
  }

  private freeName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.-]/g, '_');
    let name = clean;
    for (let n = 2; name in this.schemas; n++) name = `${clean}_${n}`;
    return name;
  }
}

/**
 * The JSON Schema of a payload type as handlers declare it: `String` a string, `Buffer` bytes,
 * `Number` / `Boolean` those, a class a `$ref` to the schema built from its class-validator rules;
 * anything else (an interface, `Object`, no type) any JSON.
 */
export function payloadSchema(type: unknown, registry: SchemaRegistry): AsyncApiSchema {
  if (type === String) return { type: 'string' };
  if (type === Buffer) return { type: 'string', format: 'binary' };
  if (type === Number) return { type: 'number' };
  if (type === Boolean) return { type: 'boolean' };
  if (type === Array) return { type: 'array' };
  if (typeof type !== 'function' || type === Object) return {};
  return registry.refOf(type as ClassType);
}

/**
 * The JSON Schema of a class from its class-validator metadata: each decorated property with its
 * type, format, range, length, pattern, enum, nested class and array rules; properties without
 * `@IsOptional()` are required. Rules with `each: true` apply to the items of an array.
 */
export function classSchema(cls: ClassType, registry: SchemaRegistry): AsyncApiSchema {
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const m of metadatas) {
    const list = byProperty.get(m.propertyName) ?? [];
    list.push(m);
    byProperty.set(m.propertyName, list);
  }
  const properties: Record<string, AsyncApiSchema> = {};
  const required: string[] = [];
  for (const [property, rules] of byProperty) {
    properties[property] = propertySchema(cls, property, rules, registry);
    const optional = rules.some(
      (r) => r.type === ValidationTypes.CONDITIONAL_VALIDATION && r.name === 'isOptional',
    );
    if (!optional) required.push(property);
  }
  const schema: AsyncApiSchema = { type: 'object', title: cls.name, properties };
  if (required.length > 0) schema.required = required;
  return schema;
}

function propertySchema(
  cls: ClassType,
  property: string,
  rules: ValidationMetadata[],
  registry: SchemaRegistry,
): AsyncApiSchema {
  const designType: unknown = Reflect.getMetadata('design:type', cls.prototype, property);
  const isArray = designType === Array || rules.some((r) => r.each || r.name === 'isArray');
  const own: AsyncApiSchema = {};
  const items: AsyncApiSchema = {};
  let notEmpty = false;
  for (const rule of rules) {
    const target =
      rule.each || (isArray && rule.type === ValidationTypes.NESTED_VALIDATION) ? items : own;
    if (rule.type === ValidationTypes.NESTED_VALIDATION) {
      const nested = nestedClass(cls, property);
      Object.assign(target, nested ? registry.refOf(nested) : { type: 'object' });
    } else if (rule.name === 'isNotEmpty') {
      notEmpty = true;
    } else if (rule.name !== undefined) {
      RULES[rule.name]?.(target, rule.constraints ?? []);
    }
  }
  // Rules are recorded bottom-up, so "not empty" is settled once the type is known.
  if (notEmpty && own.type === 'string') own.minLength = Math.max(own.minLength ?? 0, 1);
  if (notEmpty && isArray) own.minItems = Math.max(own.minItems ?? 0, 1);
  if (isArray) {
    const array: AsyncApiSchema = { type: 'array' };
    if (Object.keys(items).length > 0) array.items = items;
    if (own.minItems !== undefined) array.minItems = own.minItems;
    if (own.maxItems !== undefined) array.maxItems = own.maxItems;
    if (own.uniqueItems) array.uniqueItems = true;
    return array;
  }
  if (own.type === undefined && own.$ref === undefined) {
    return { ...designTypeSchema(designType), ...own };
  }
  return own;
}

/** The class of a nested property: `@Type(() => Class)` first, else the declared type. */
function nestedClass(cls: ClassType, property: string): ClassType | undefined {
  const declared = transformerTypeOf(cls, property);
  if (typeof declared === 'function' && declared !== Object && declared !== Array) {
    return declared as ClassType;
  }
  const design: unknown = Reflect.getMetadata('design:type', cls.prototype, property);
  if (
    typeof design === 'function' &&
    ![Object, Array, String, Number, Boolean].includes(design as never)
  ) {
    return design as ClassType;
  }
  return undefined;
}

function designTypeSchema(type: unknown): AsyncApiSchema | undefined {
  if (type === String) return { type: 'string' };
  if (type === Number) return { type: 'number' };
  if (type === Boolean) return { type: 'boolean' };
  if (type === Date) return { type: 'string', format: 'date-time' };
  return undefined;
}

type Rule = (schema: AsyncApiSchema, c: unknown[]) => void;

/** What each class-validator rule (by its registered name) says in JSON Schema. */
const RULES: Record<string, Rule> = {
  isString: (s) => (s.type = 'string'),
  isNumber: (s) => (s.type ??= 'number'),
  isInt: (s) => (s.type = 'integer'),
  isBoolean: (s) => (s.type = 'boolean'),
  isObject: (s) => (s.type ??= 'object'),
  isDate: (s) => Object.assign(s, { type: 'string', format: 'date-time' }),
  isDateString: (s) => Object.assign(s, { type: 'string', format: 'date-time' }),
  isIso8601: (s) => Object.assign(s, { type: 'string', format: 'date-time' }),
  isRFC3339: (s) => Object.assign(s, { type: 'string', format: 'date-time' }),
  isEmail: (s) => Object.assign(s, { type: 'string', format: 'email' }),
  isUrl: (s) => Object.assign(s, { type: 'string', format: 'uri' }),
  isUuid: (s) => Object.assign(s, { type: 'string', format: 'uuid' }),
  isFqdn: (s) => Object.assign(s, { type: 'string', format: 'hostname' }),
  isIp: (s, [version]) =>
    Object.assign(s, {
      type: 'string',
      ...(version ? { format: `ipv${String(version as string | number)}` } : {}),
    }),
  isIn: (s, [values]) => (s.enum = [...(values as unknown[])]),
  isEnum: (s, [, values]) => (s.enum = [...(values as unknown[])]),
  equals: (s, [value]) => (s.const = value),
  min: (s, [n]) => (s.minimum = n as number),
  max: (s, [n]) => (s.maximum = n as number),
  isPositive: (s) => Object.assign(s, { type: s.type ?? 'number', exclusiveMinimum: 0 }),
  isNegative: (s) => Object.assign(s, { type: s.type ?? 'number', exclusiveMaximum: 0 }),
  isDivisibleBy: (s, [n]) => (s.multipleOf = n as number),
  isLatitude: (s) => Object.assign(s, { type: 'number', minimum: -90, maximum: 90 }),
  isLongitude: (s) => Object.assign(s, { type: 'number', minimum: -180, maximum: 180 }),
  minLength: (s, [n]) => Object.assign(s, { type: 'string', minLength: n }),
  maxLength: (s, [n]) => Object.assign(s, { type: 'string', maxLength: n }),
  isLength: (s, [min, max]) => {
    s.type = 'string';
    if (typeof min === 'number') s.minLength = min;
    if (typeof max === 'number') s.maxLength = max;
  },
  matches: (s, [pattern]) =>
    Object.assign(s, {
      type: 'string',
      pattern: pattern instanceof RegExp ? pattern.source : String(pattern),
    }),
  arrayMinSize: (s, [n]) => (s.minItems = n as number),
  arrayMaxSize: (s, [n]) => (s.maxItems = n as number),
  arrayNotEmpty: (s) => (s.minItems = Math.max(s.minItems ?? 0, 1)),
  arrayUnique: (s) => (s.uniqueItems = true),
  isNotEmptyObject: (s) => Object.assign(s, { type: 'object', minProperties: 1 }),
};

/** Rules that only say the value is a string of some form. */
const STRING_RULES = [
  'isAlpha',
  'isAlphanumeric',
  'isAscii',
  'isBase64',
  'isBooleanString',
  'isDecimal',
  'isHexadecimal',
  'isHexColor',
  'isJson',
  'isJwt',
  'isLocale',
  'isLowercase',
  'isMimeType',
  'isMongoId',
  'isNumberString',
  'isPhoneNumber',
  'isPort',
  'isSemVer',
  'isTimeZone',
  'isUppercase',
  'contains',
  'notContains',
];
for (const name of STRING_RULES) RULES[name] = (s) => (s.type = 'string');

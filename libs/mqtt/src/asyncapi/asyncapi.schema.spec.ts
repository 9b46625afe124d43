import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  Equals,
  IsArray,
  IsBoolean,
  IsEmail,
  IsEnum,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { transformerTypeOf } from './asyncapi.class-transformer';
import { classSchema, payloadSchema, SchemaRegistry } from './asyncapi.schema';

enum Unit {
  Celsius = 'C',
  Fahrenheit = 'F',
}
enum Level {
  Low,
  High,
}

class LocationDto {
  @IsNumber() @Min(-90) @Max(90) lat!: number;
  @IsNumber() @Min(-180) @Max(180) lon!: number;
}

class TagDto {
  @IsString() @MinLength(1) @MaxLength(20) name!: string;
}

class SensorDto {
  @IsString() @Length(3, 32) @Matches(/^[a-z0-9-]+$/) id!: string;
  @IsInt() @Min(0) @Max(100) battery!: number;
  @IsPositive() @IsNumber() voltage!: number;
  @IsBoolean() online!: boolean;
  @IsEnum(Unit) unit!: Unit;
  @IsEnum(Level) level!: Level;
  @IsIn(['a', 'b']) mode!: string;
  @Equals('v1') schema!: string;
  @IsISO8601() at!: string;
  @IsEmail() @IsOptional() owner?: string;
  @IsUUID() @IsOptional() batch?: string;
  @IsNotEmpty() @IsString() label!: string;
  @ValidateNested() @Type(() => LocationDto) location!: LocationDto;
  @ValidateNested({ each: true })
  @Type(() => TagDto)
  @ArrayMinSize(1)
  @ArrayMaxSize(5)
  tags!: TagDto[];
  @IsArray()
  @IsNumber({}, { each: true })
  @Min(0, { each: true })
  @ArrayUnique()
  samples!: number[];
  @IsOptional() @ValidateNested() @Type(() => SensorDto) parent?: SensorDto;
}

describe('classSchema (class-validator rules to JSON Schema)', () => {
  const registry = new SchemaRegistry();
  const schema = classSchema(SensorDto, registry);
  const props = schema.properties ?? {};

  it('makes an object schema named after the class, every non-optional property required', () => {
    expect(schema.type).toBe('object');
    expect(schema.title).toBe('SensorDto');
    expect([...(schema.required ?? [])].sort()).toEqual(
      [
        'id',
        'battery',
        'voltage',
        'online',
        'unit',
        'level',
        'mode',
        'schema',
        'at',
        'label',
        'location',
        'tags',
        'samples',
      ].sort(),
    );
    expect(schema.required).not.toContain('owner');
    expect(schema.required).not.toContain('parent');
  });

  it('turns types, ranges, lengths and patterns into their keywords', () => {
    expect(props.id).toEqual({
      type: 'string',
      minLength: 3,
      maxLength: 32,
      pattern: '^[a-z0-9-]+$',
    });
    expect(props.battery).toEqual({ type: 'integer', minimum: 0, maximum: 100 });
    expect(props.voltage).toEqual({ type: 'number', exclusiveMinimum: 0 });
    expect(props.online).toEqual({ type: 'boolean' });
    expect(props.label).toEqual({ type: 'string', minLength: 1 });
  });

  it('turns @IsEnum (string and numeric enums), @IsIn and @Equals into enum / const, typed', () => {
    // The declared type (design:type) adds the JSON type the rule leaves open.
    expect(props.unit).toEqual({ type: 'string', enum: ['C', 'F'] });
    expect(props.level).toEqual({ type: 'number', enum: [0, 1] });
    expect(props.mode).toEqual({ type: 'string', enum: ['a', 'b'] });
    expect(props.schema).toEqual({ type: 'string', const: 'v1' });
  });

  it('gives string formats: date-time, email, uuid', () => {
    expect(props.at).toEqual({ type: 'string', format: 'date-time' });
    expect(props.owner).toEqual({ type: 'string', format: 'email' });
    expect(props.batch).toEqual({ type: 'string', format: 'uuid' });
  });

  it('refers to nested classes through components.schemas, recursion included', () => {
    expect(props.location).toEqual({ $ref: '#/components/schemas/LocationDto' });
    expect(registry.schemas.LocationDto).toEqual({
      type: 'object',
      title: 'LocationDto',
      properties: {
        lat: { type: 'number', minimum: -90, maximum: 90 },
        lon: { type: 'number', minimum: -180, maximum: 180 },
      },
      required: ['lat', 'lon'],
    });
    expect(props.parent).toEqual({ $ref: '#/components/schemas/SensorDto' });
  });

  it('makes arrays of nested classes and of `each` rules, with their size rules', () => {
    expect(props.tags).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/TagDto' },
      minItems: 1,
      maxItems: 5,
    });
    expect(registry.schemas.TagDto.properties?.name).toEqual({
      type: 'string',
      minLength: 1,
      maxLength: 20,
    });
    expect(props.samples).toEqual({
      type: 'array',
      items: { type: 'number', minimum: 0 },
      uniqueItems: true,
    });
  });
});

describe('SchemaRegistry and payloadSchema', () => {
  it('converts a class once and names a second class of the same name apart', () => {
    const registry = new SchemaRegistry();
    const first = registry.refOf(TagDto);
    expect(registry.refOf(TagDto)).toEqual(first);
    const Other = (() => {
      class TagDto {
        @IsInt() n!: number;
      }
      return TagDto;
    })();
    expect(registry.refOf(Other)).toEqual({ $ref: '#/components/schemas/TagDto_2' });
    expect(Object.keys(registry.schemas)).toEqual(['TagDto', 'TagDto_2']);
  });

  it('gives the payload schemas of built-in parameter types, and any JSON for no type', () => {
    const registry = new SchemaRegistry();
    expect(payloadSchema(String, registry)).toEqual({ type: 'string' });
    expect(payloadSchema(Buffer, registry)).toEqual({ type: 'string', format: 'binary' });
    expect(payloadSchema(Number, registry)).toEqual({ type: 'number' });
    expect(payloadSchema(Object, registry)).toEqual({});
    expect(payloadSchema(undefined, registry)).toEqual({});
    expect(Object.keys(registry.schemas)).toEqual([]);
  });

  it('takes a property type from its declaration when no rule names one', () => {
    class Loose {
      @Min(1) count!: number;
      @IsOptional() note?: string;
    }
    expect(classSchema(Loose, new SchemaRegistry())).toEqual({
      type: 'object',
      title: 'Loose',
      properties: { count: { type: 'number', minimum: 1 }, note: { type: 'string' } },
      required: ['count'],
    });
  });
});

describe("class-transformer's metadata storage (private API read in one file)", () => {
  it('still gives the class of @Type(() => Class): fails loudly when an upgrade changes it', () => {
    expect(transformerTypeOf(SensorDto, 'location')).toBe(LocationDto);
    expect(transformerTypeOf(SensorDto, 'id')).toBeUndefined();
  });
});

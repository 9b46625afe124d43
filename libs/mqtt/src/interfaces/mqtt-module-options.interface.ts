import type {
  InjectionToken,
  ModuleMetadata,
  OptionalFactoryDependency,
  Provider,
  Type,
} from '@nestjs/common';
import type { IClientOptions } from 'mqtt';
import type { MqttConfigInput } from './mqtt-config.interface';

/**
 * Options of `MqttModule.forRoot()`: the same `MQTT_*` keys as the environment, as strings or
 * native values, validated the same way, plus a few options that only make sense in code.
 */
export interface MqttModuleOptions extends MqttConfigInput {
  /**
   * MQTT.js options merged over those derived from the keys: an escape hatch for what no key
   * covers (custom `streamBuilder`, `properties` of the CONNECT packet, ...). @default {}
   */
  clientOptions?: Partial<IClientOptions>;
  /**
   * How a class-typed `@Payload()` is validated (class-validator options, as Nest's
   * ValidationPipe takes them), or `false` to only parse JSON. When a pipe applies to the
   * payload (a global `ValidationPipe`, say), the module only parses JSON and the pipe validates:
   * a payload is never validated twice. @default {} (validate, unknown fields kept)
   */
  validation?: MqttValidationOptions | false;
}

/** Validation of class-typed payloads (class-validator's options plus `transform`). */
export interface MqttValidationOptions {
  /** Strip properties without class-validator decorators. @default false */
  whitelist?: boolean;
  /** With `whitelist`: reject a payload with such properties instead. @default false */
  forbidNonWhitelisted?: boolean;
  /** Hand the handler an instance of the class (true) or the validated plain object. @default true */
  transform?: boolean;
  /** Validation groups. @default undefined (all rules without groups) */
  groups?: string[];
  /** Skip the rules of properties that are null or undefined. @default false */
  skipMissingProperties?: boolean;
  /** Stop at the first error of each property. @default false */
  stopAtFirstError?: boolean;
}

/** What `forRoot()` takes: the keys, plus a name for a second (third, ...) broker. */
export interface MqttModuleRootOptions extends MqttModuleOptions {
  /**
   * The connection's name, for apps with several brokers: inject it with `@InjectMqtt(name)`
   * and route handlers with `@Subscribe(filter, { connection: name })`. @default 'default'
   */
  name?: string;
}

/** A class that creates `MqttModuleOptions`, for `forRootAsync({ useClass })`. */
export interface MqttOptionsFactory {
  createMqttOptions(): MqttModuleOptions | Promise<MqttModuleOptions>;
}

/** Options of `MqttModule.forRootAsync()`, following Nest's conventions. */
export interface MqttModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** The connection's name (see `MqttModuleRootOptions.name`). @default 'default' */
  name?: string;
  /**
   * With no factory: the prefix of the keys read through ConfigService, as Flask-MQTT's
   * `config_prefix`: `'MQTT2'` reads `MQTT2_BROKER_URL`, `MQTT2_BROKER_PORT`, ... @default 'MQTT'
   */
  configPrefix?: string;
  /** Factory returning the options; its arguments are the `inject` tokens. */
  useFactory?(this: void, ...args: never[]): MqttModuleOptions | Promise<MqttModuleOptions>;
  /** Providers injected into `useFactory`. */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** A class implementing `MqttOptionsFactory`, instantiated by the module. */
  useClass?: Type<MqttOptionsFactory>;
  /** An existing provider implementing `MqttOptionsFactory`. */
  useExisting?: Type<MqttOptionsFactory>;
  /** Extra providers available to the factory. */
  extraProviders?: Provider[];
}

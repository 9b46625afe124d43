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
   * How many received messages may wait for busy handlers, in all, before the client stops
   * reading from the broker (back-pressure), so a burst into a slow handler cannot grow memory
   * without bound; the broker holds the rest. @default 1000
   */
  maxQueuedMessages?: number;
}

/** A class that creates `MqttModuleOptions`, for `forRootAsync({ useClass })`. */
export interface MqttOptionsFactory {
  createMqttOptions(): MqttModuleOptions | Promise<MqttModuleOptions>;
}

/** Options of `MqttModule.forRootAsync()`, following Nest's conventions. */
export interface MqttModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
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

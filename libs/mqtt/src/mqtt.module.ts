import { DynamicModule, Logger, Module, type Provider } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { DiscoveryModule } from '@nestjs/core';
import { MQTT_CONFIG_KEYS } from './config/mqtt-config.constants';
import { parseMqttConfig } from './config/mqtt-config.parse';
import type { MqttConfig } from './interfaces/mqtt-config.interface';
import type {
  MqttModuleAsyncOptions,
  MqttModuleOptions,
  MqttOptionsFactory,
} from './interfaces/mqtt-module-options.interface';
import { MQTT_CONFIG, MQTT_LOGGER_CONTEXT, MQTT_MODULE_OPTIONS } from './mqtt.constants';
import { MqttExplorer } from './mqtt.explorer';
import { ASYNC_OPTIONS_MISSING } from './mqtt.messages';
import { MqttRouter } from './mqtt.router';
import { MqttService } from './mqtt.service';

/** Validates the options once, at DI time, so bad configuration fails bootstrap before anything connects. */
const configProvider: Provider = {
  provide: MQTT_CONFIG,
  useFactory: (options: MqttModuleOptions): MqttConfig => {
    const { config, warnings } = parseMqttConfig(options);
    const logger = new Logger(MQTT_LOGGER_CONTEXT);
    for (const warning of warnings) logger.warn(warning);
    return config;
  },
  inject: [MQTT_MODULE_OPTIONS],
};

const KNOWN_KEYS = new Set<string>(MQTT_CONFIG_KEYS);

/**
 * Reads every `MQTT_*` key through ConfigService (so `.env` files and the environment both
 * work), plus unknown `MQTT_*` names of the environment so their typos can be reported.
 */
function optionsFromConfigService(config: ConfigService): MqttModuleOptions {
  const record: Record<string, unknown> = {};
  // Unknown names only, for the typo warnings; every known key comes from ConfigService alone.
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('MQTT_') && !KNOWN_KEYS.has(name)) record[name] = process.env[name];
  }
  for (const key of MQTT_CONFIG_KEYS) {
    const value: unknown = config.get(key);
    if (value !== undefined) record[key] = value;
  }
  return record;
}

/**
 * The MQTT module. `forRootAsync()` with no arguments reads the `MQTT_*` keys through
 * `@nestjs/config`; `forRoot(options)` takes them in code. Global: `MqttService` can be injected
 * anywhere once the module is imported in the root module.
 */
@Module({})
export class MqttModule {
  /** Configures the module with options given in code (the same `MQTT_*` keys). */
  static forRoot(options: MqttModuleOptions = {}): DynamicModule {
    return MqttModule.build([], [{ provide: MQTT_MODULE_OPTIONS, useValue: options }]);
  }

  /**
   * Configures the module asynchronously. With no argument it reads the `MQTT_*` keys through
   * ConfigService; otherwise `useFactory` + `inject`, `useClass` or `useExisting`, with `imports`.
   */
  static forRootAsync(options?: MqttModuleAsyncOptions): DynamicModule {
    const async: MqttModuleAsyncOptions = options ?? {
      imports: [ConfigModule],
      useFactory: optionsFromConfigService,
      inject: [ConfigService],
    };
    return MqttModule.build(async.imports ?? [], [
      ...MqttModule.asyncProviders(async),
      ...(async.extraProviders ?? []),
    ]);
  }

  private static build(
    imports: NonNullable<MqttModuleAsyncOptions['imports']>,
    providers: Provider[],
  ): DynamicModule {
    return {
      global: true,
      module: MqttModule,
      imports: [DiscoveryModule, ...imports],
      providers: [...providers, configProvider, MqttRouter, MqttService, MqttExplorer],
      exports: [MqttService, MQTT_CONFIG],
    };
  }

  private static asyncProviders(options: MqttModuleAsyncOptions): Provider[] {
    if (options.useFactory) {
      return [
        {
          provide: MQTT_MODULE_OPTIONS,
          useFactory: options.useFactory,
          inject: options.inject ?? [],
        },
      ];
    }
    const factoryClass = options.useClass ?? options.useExisting;
    if (!factoryClass) {
      throw new Error(ASYNC_OPTIONS_MISSING());
    }
    const providers: Provider[] = [
      {
        provide: MQTT_MODULE_OPTIONS,
        useFactory: (factory: MqttOptionsFactory) => factory.createMqttOptions(),
        inject: [factoryClass],
      },
    ];
    if (options.useClass) providers.push({ provide: options.useClass, useClass: options.useClass });
    return providers;
  }
}

import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { DiscoveryModule } from '@nestjs/core';
import { MQTT_CONFIG_KEYS } from './config/mqtt-config.constants';
import { parseMqttConfig } from './config/mqtt-config.parse';
import { MqttDispatcher } from './dispatch/mqtt.dispatcher';
import { MqttConfigError } from './errors/mqtt-config.error';
import { MqttExplorer } from './explorer/mqtt.explorer';
import type { MqttConfig } from './interfaces/mqtt-config.interface';
import type {
  MqttModuleAsyncOptions,
  MqttModuleOptions,
  MqttModuleRootOptions,
  MqttOptionsFactory,
} from './interfaces/mqtt-module-options.interface';
import { MQTT_CONNECTION_CONFIG, MQTT_MODULE_OPTIONS } from './mqtt.constants';
import { ASYNC_OPTIONS_MISSING } from './mqtt.messages';
import { MqttService } from './mqtt.service';
import { DEFAULT_MQTT_CONNECTION, getMqttConfigToken, getMqttServiceToken } from './mqtt.tokens';
import { MqttEventBus } from './mqtt-event-bus';
import { MqttRouter } from './routing/mqtt.router';
import { loadMqttTracing } from './tracing/mqtt-tracing';

const MQTT_CONNECTION_NAME = Symbol('nestjs-mqtt:connection-name');
const MQTT_KEY_PREFIX = Symbol('nestjs-mqtt:key-prefix');

/**
 * Validates the options once, at DI time, so bad configuration fails bootstrap before anything
 * connects. Warnings go through the connection's event bus once the explorer has registered the
 * `@OnMqttLog()` listeners (still before connecting), so those see them too.
 */
const configProvider: Provider = {
  provide: MQTT_CONNECTION_CONFIG,
  useFactory: (options: MqttModuleOptions, prefix: string, bus: MqttEventBus): MqttConfig => {
    try {
      const { config, warnings } = parseMqttConfig(options);
      for (const warning of warnings) bus.logWhenListened('warn', withPrefix(warning, prefix));
      return config;
    } catch (error) {
      if (!(error instanceof MqttConfigError) || prefix === 'MQTT') throw error;
      throw new MqttConfigError(
        error.issues.map((i) => ({
          key: withPrefix(i.key, prefix),
          message: withPrefix(i.message, prefix),
        })),
        error.warnings.map((w) => withPrefix(w, prefix)),
      );
    }
  },
  inject: [MQTT_MODULE_OPTIONS, MQTT_KEY_PREFIX, MqttEventBus],
};

/** Names the keys as the app wrote them: `MQTT2_BROKER_PORT` for the prefix `MQTT2`. */
function withPrefix(text: string, prefix: string): string {
  return prefix === 'MQTT' ? text : text.replace(/\bMQTT_(?=[A-Z])/g, `${prefix}_`);
}

const KNOWN_KEYS = new Set<string>(MQTT_CONFIG_KEYS);

/**
 * Reads every key under `prefix` through ConfigService (so `.env` files and the environment both
 * work), plus unknown names of the environment under the prefix so their typos can be reported.
 */
function optionsFromConfigService(prefix: string) {
  return (config: ConfigService): MqttModuleOptions => {
    const record: Record<string, unknown> = {};
    const start = `${prefix}_`;
    // Unknown names only, for the typo warnings; every known key comes from ConfigService alone.
    for (const name of Object.keys(process.env)) {
      const key = `MQTT_${name.slice(start.length)}`;
      if (name.startsWith(start) && !KNOWN_KEYS.has(key)) record[key] = process.env[name];
    }
    for (const key of MQTT_CONFIG_KEYS) {
      const value: unknown = config.get(`${prefix}${key.slice('MQTT'.length)}`);
      if (value !== undefined) record[key] = value;
    }
    return record;
  };
}

/**
 * The MQTT module. `forRootAsync()` with no arguments reads the `MQTT_*` keys through
 * `@nestjs/config`; `forRoot(options)` takes them in code. Global: `MqttService` can be injected
 * anywhere once the module is imported in the root module. Each call with another `name` adds
 * a connection to another broker.
 */
@Module({})
export class MqttModule {
  /** Configures a connection with options given in code (the same `MQTT_*` keys). */
  static forRoot(options: MqttModuleRootOptions = {}): DynamicModule {
    const { name = DEFAULT_MQTT_CONNECTION, ...rest } = options;
    return MqttModule.build(name, 'MQTT', [], [{ provide: MQTT_MODULE_OPTIONS, useValue: rest }]);
  }

  /**
   * Configures a connection asynchronously. With no factory it reads the `MQTT_*` keys (or
   * `<configPrefix>_*`) through ConfigService; otherwise `useFactory` + `inject`, `useClass` or
   * `useExisting`, with `imports`.
   */
  static forRootAsync(options: MqttModuleAsyncOptions = {}): DynamicModule {
    const name = options.name ?? DEFAULT_MQTT_CONNECTION;
    const prefix = options.configPrefix ?? 'MQTT';
    const async: MqttModuleAsyncOptions =
      options.useFactory || options.useClass || options.useExisting
        ? options
        : {
            ...options,
            imports: [ConfigModule, ...(options.imports ?? [])],
            useFactory: optionsFromConfigService(prefix),
            inject: [ConfigService],
          };
    return MqttModule.build(name, prefix, async.imports ?? [], [
      ...MqttModule.asyncProviders(async),
      ...(async.extraProviders ?? []),
    ]);
  }

  private static build(
    name: string,
    prefix: string,
    imports: NonNullable<MqttModuleAsyncOptions['imports']>,
    providers: Provider[],
  ): DynamicModule {
    const serviceToken = getMqttServiceToken(name);
    const configToken = getMqttConfigToken(name);
    return {
      global: true,
      module: MqttModule,
      imports: [DiscoveryModule, ...imports],
      providers: [
        ...providers,
        { provide: MQTT_CONNECTION_NAME, useValue: name },
        { provide: MQTT_KEY_PREFIX, useValue: prefix },
        configProvider,
        {
          provide: MqttEventBus,
          useFactory: (n: string) => new MqttEventBus(n),
          inject: [MQTT_CONNECTION_NAME],
        },
        { provide: MqttRouter, useFactory: () => new MqttRouter() },
        {
          provide: MqttDispatcher,
          useFactory: (config: MqttConfig) =>
            new MqttDispatcher({
              handlerTimeout: config.handlerTimeout,
              qos0QueueLimit: config.qos0QueueLimit,
              tracing: config.protocolVersion === 5 ? loadMqttTracing() : undefined,
            }),
          inject: [MQTT_CONNECTION_CONFIG],
        },
        // A named connection's service is known by its name only, so that `app.get(MqttService)`
        // and injecting `MqttService` always mean the default connection.
        name === DEFAULT_MQTT_CONNECTION
          ? MqttService
          : { provide: serviceToken, useClass: MqttService },
        { provide: configToken, useExisting: MQTT_CONNECTION_CONFIG },
        MqttExplorer,
      ],
      exports: [serviceToken, configToken],
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

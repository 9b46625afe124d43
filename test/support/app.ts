import type { ModuleMetadata, Provider, Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  MqttConfigError,
  MqttConnectionError,
  MqttModule,
  MqttService,
  MqttSubscribeError,
  type MqttConnectionState,
  type MqttEvent,
  type MqttModuleOptions,
} from 'nestjs-mqtt';
import { filter, firstValueFrom, timeout } from 'rxjs';

import { CaptureLogger } from './logging';

/** What {@link compileMqttApp} / {@link startMqttApp} build. */
export interface MqttAppSetup {
  /** A broker on 127.0.0.1: gives MQTT_BROKER_URL `127.0.0.1` and its MQTT_BROKER_PORT. */
  readonly broker?: { readonly port: number };
  /** Options of `MqttModule.forRoot()`, over those from `broker`. */
  readonly options?: MqttModuleOptions;
  /**
   * The modules to import instead of `MqttModule.forRoot(options)`, e.g. a ConfigModule and
   * `MqttModule.forRootAsync()`; `broker` and `options` are then not used.
   */
  readonly imports?: NonNullable<ModuleMetadata['imports']>;
  readonly providers?: Provider[];
  readonly controllers?: Type[];
  /** The testing module's logger; a new {@link CaptureLogger} by default. */
  readonly logger?: CaptureLogger;
}

/** A Nest testing module with the MQTT module, made by {@link compileMqttApp}. */
export interface MqttTestApp {
  /** The testing module: an application context (`init()`, `get()`, `close()`). */
  readonly app: TestingModule;
  readonly mqtt: MqttService;
  readonly logger: CaptureLogger;
  /** Every event of `mqtt.events$` since the module was compiled (a live array). */
  readonly events: MqttEvent[];
}

/**
 * Compiles a testing module with `MqttModule.forRoot()` (or `setup.imports`), the providers and
 * controllers, and a CaptureLogger, WITHOUT initialising it: the client has not connected, and
 * `app.init()` is left to the test (e.g. to assert on how the bootstrap fails).
 */
export async function compileMqttApp(setup: MqttAppSetup = {}): Promise<MqttTestApp> {
  const logger = setup.logger ?? new CaptureLogger();
  const { broker } = setup;
  const imports = setup.imports ?? [
    MqttModule.forRoot({
      ...(broker && { MQTT_BROKER_URL: '127.0.0.1', MQTT_BROKER_PORT: broker.port }),
      ...setup.options,
    }),
  ];
  const app = await Test.createTestingModule({
    imports,
    providers: setup.providers ?? [],
    controllers: setup.controllers ?? [],
  })
    .setLogger(logger)
    .compile();
  const mqtt = app.get(MqttService);
  const events: MqttEvent[] = [];
  mqtt.events$.subscribe((event) => events.push(event));
  return { app, mqtt, logger, events };
}

/**
 * {@link compileMqttApp}, then `app.init()`: when this resolves the client is connected (unless
 * MQTT_CONNECT_IN_BACKGROUND) and every `@Subscribe` filter is subscribed. If the bootstrap
 * fails the app is closed and the error rethrown. The caller closes the app.
 */
export async function startMqttApp(setup: MqttAppSetup = {}): Promise<MqttTestApp> {
  const started = await compileMqttApp(setup);
  try {
    await started.app.init();
  } catch (error) {
    await closeApp(started.app);
    throw error;
  }
  return started;
}

/**
 * Resolves when the service reaches `state` (now, or later); rejects after `timeoutMs` saying
 * which state it is in instead.
 */
export function waitForState(
  mqtt: MqttService,
  state: MqttConnectionState,
  timeoutMs = 5000,
): Promise<MqttConnectionState> {
  return firstValueFrom(
    mqtt.state$.pipe(
      filter((s) => s === state),
      timeout({
        first: timeoutMs,
        with: () => {
          throw new Error(`State "${state}" not reached in ${timeoutMs} ms (now ${mqtt.state})`);
        },
      }),
    ),
  );
}

/**
 * Closes an app, also one whose `init()` failed. NestJS 11 awaits the failed initialisation in
 * `close()` and so rejects with the same bootstrap error (NestJS 12 does not): that error is
 * expected here and ignored; any other error from closing is not.
 */
export async function closeApp(app: { close(): Promise<void> }): Promise<void> {
  try {
    await app.close();
  } catch (error) {
    if (!isBootstrapError(error)) throw error;
  }
}

function isBootstrapError(error: unknown): boolean {
  return (
    error instanceof MqttConnectionError ||
    error instanceof MqttSubscribeError ||
    error instanceof MqttConfigError
  );
}

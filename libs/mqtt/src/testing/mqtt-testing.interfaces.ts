import type { LoggerService, ModuleMetadata, Provider, Type } from '@nestjs/common';
import type { TestingModule, TestingModuleBuilder } from '@nestjs/testing';
import type { MqttModuleOptions } from '../interfaces/mqtt-module-options.interface';
import type { MqttEvent } from '../interfaces/mqtt-service.interface';
import type { MqttService } from '../mqtt.service';
import type { MqttCapturedMessage, MqttTestBroker } from './mqtt-test-broker';

/**
 * What `MqttService.events$` reports when a handler call settled: which handler
 * (`ClassName.methodName`), for which topic, and how it ended.
 */
export type MqttHandlerSettledEvent = Extract<MqttEvent, { type: 'message' }>;

/** Which settled handler call {@link MqttTestingApp.settled} waits for; every field optional. */
export interface MqttSettledMatch {
  /** `ClassName.methodName`. */
  readonly handler?: string;
  /** The topic of the message, exactly. */
  readonly topic?: string;
}

/** Options of `startMqttTestingApp()`. */
export interface MqttTestingAppOptions {
  /**
   * Modules to import, or a function of the test broker returning them (to point your own
   * configuration at `broker.port`).
   * @default []
   */
  readonly imports?:
    | NonNullable<ModuleMetadata['imports']>
    | ((broker: MqttTestBroker) => NonNullable<ModuleMetadata['imports']>);
  /** @default [] */
  readonly providers?: Provider[];
  /** @default [] */
  readonly controllers?: Type[];
  /**
   * `MQTT_*` keys for the `MqttModule.forRoot()` the kit adds, over its own
   * (`MQTT_BROKER_URL` / `MQTT_BROKER_PORT` of the test broker, a random `MQTT_CLIENT_ID`,
   * `MQTT_RECONNECT_PERIOD: 0`).
   * @default {}
   */
  readonly mqtt?: MqttModuleOptions;
  /**
   * Set false when `imports` bring their own `MqttModule.forRoot()` / `forRootAsync()` (aimed at
   * the broker through the function form of `imports`): the kit then adds none.
   * @default true
   */
  readonly mqttModule?: boolean;
  /**
   * A broker to use (e.g. one shared by a whole suite); it is NOT stopped by `close()`.
   * @default a new one, started for this app and stopped by `close()`
   */
  readonly broker?: MqttTestBroker;
  /** Changes to the testing module before it is compiled (`overrideProvider`, ...). */
  readonly override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** The Nest logger of the testing module. @default Nest's default logger */
  readonly logger?: LoggerService;
  /** Milliseconds `deliver()`, `settled()` and `waitForPublished()` wait. @default 5000 */
  readonly timeout?: number;
}

/** Options of {@link MqttTestingApp.publish} and {@link MqttTestingApp.deliver}. */
export interface MqttTestPublishOptions {
  /** @default 0 for publish(), 1 for deliver() */
  readonly qos?: 0 | 1 | 2;
  /** @default false */
  readonly retain?: boolean;
  /** Overrides the app's `timeout` for this call. */
  readonly timeout?: number;
}

/** What {@link MqttTestingApp.deliver} resolves with. */
export interface MqttDelivery {
  /** The handler calls of the app for this message that settled before it acknowledged it. */
  readonly outcomes: MqttHandlerSettledEvent[];
}

/** A Nest application context with the MQTT module, connected to an in-process broker. */
export interface MqttTestingApp {
  /** The initialised testing module. */
  readonly app: TestingModule;
  readonly broker: MqttTestBroker;
  /** The app's MqttService (the default connection). */
  readonly mqtt: MqttService;
  /** `app.get(token)`. */
  get<T>(token: Type<T> | string | symbol): T;
  /**
   * Publishes as an outside client (through the broker, not the app's connection). Resolves
   * once the broker has routed it: the app may not have received it yet; see `deliver()` and
   * `settled()`.
   * @param payload A Buffer or string as is; anything else as JSON.
   */
  publish(topic: string, payload?: unknown, options?: MqttTestPublishOptions): Promise<void>;
  /**
   * Publishes (QoS 1 by default) and resolves once the app acknowledged the message, i.e. once
   * every handler it has for the topic settled (handled, failed and dead-lettered, or timed out)
   * and whatever they awaited was done. Rejects after the timeout when the app did not
   * acknowledge: no handler for the topic, a QoS 0 subscription, or `ack: 'on-receipt'`.
   */
  deliver(
    topic: string,
    payload?: unknown,
    options?: MqttTestPublishOptions,
  ): Promise<MqttDelivery>;
  /**
   * Resolves with the first handler call matching `match` (a handler name, or handler / topic)
   * that settled since the app started and was not returned before; waits for it if there is
   * none yet. Race-free: call it before or after the message arrives.
   */
  settled(match?: string | MqttSettledMatch, timeout?: number): Promise<MqttHandlerSettledEvent>;
  /** What the app published (seen at the broker), matching the MQTT filter, oldest first. */
  published(filter?: string): MqttCapturedMessage[];
  /** Resolves with {@link published}(filter) once it holds at least `count` messages. */
  waitForPublished(
    filter: string,
    count?: number,
    timeout?: number,
  ): Promise<MqttCapturedMessage[]>;
  /** Closes the app (gracefully: running handlers finish), then the broker if the kit started it. */
  close(): Promise<void>;
}

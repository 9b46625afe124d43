/**
 * Nest apps built at run time for the benchmarks: the module (`nestjs-mqtt`) with one measured
 * `@Subscribe` handler plus any number of other handlers, and the same with `@nestjs/microservices`'
 * MQTT transport (`@EventPattern`).
 */
import { Controller, Injectable, Module, type LogLevel, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { MqttClient } from 'mqtt';
import { MqttModule, MqttService, Subscribe, type MqttQos } from 'nestjs-mqtt';

/** Log levels of the benchmark apps: quiet, but failures still show. */
const LOG_LEVELS: LogLevel[] = ['error', 'warn'];

/** Host and port of an `mqtt://host:port` URL. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 1883) };
}

/** Counts the messages that reached one of the "other" handlers (there should be none). */
export const strayCounter = { count: 0 };

/**
 * Classes with `filters.length` handler methods in all, `perClass` per class, each decorated with
 * `decorate(filter)`; the methods count stray messages.
 */
function handlerClasses(
  filters: readonly string[],
  perClass: number,
  decorate: (filter: string) => MethodDecorator,
  classDecorator: ClassDecorator,
  prefix: string,
): Type[] {
  const classes: Type[] = [];
  for (let start = 0; start < filters.length; start += perClass) {
    const cls = class {};
    Object.defineProperty(cls, 'name', { value: `${prefix}${classes.length}` });
    const end = Math.min(filters.length, start + perClass);
    for (let i = start; i < end; i++) {
      const name = `onOther${i}`;
      Object.defineProperty(cls.prototype, name, {
        value: function onOther(): void {
          strayCounter.count++;
        },
        writable: true,
        configurable: true,
        enumerable: false,
      });
      const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name)!;
      decorate(filters[i])(cls.prototype, name, descriptor);
    }
    classDecorator(cls);
    classes.push(cls);
  }
  return classes;
}

/** Options of {@link createModuleApp}. */
export interface ModuleAppOptions {
  readonly url: string;
  readonly clientId: string;
  /** The measured filter and its handler; omitted for a publisher-only app. */
  readonly measured?: { filter: string; qos: MqttQos; onMessage: () => void };
  /** Filters of the other `@Subscribe` handlers. */
  readonly others?: readonly string[];
  /** Handler methods per provider class. @default 100 */
  readonly perClass?: number;
}

/** Builds the module of an app using `nestjs-mqtt` (not yet bootstrapped). */
export function moduleAppModule(options: ModuleAppOptions): Type {
  const { host, port } = hostPort(options.url);
  const providers: Type[] = handlerClasses(
    options.others ?? [],
    options.perClass ?? 100,
    (filter) => Subscribe(filter),
    Injectable(),
    'OtherHandlers',
  );
  if (options.measured) {
    const measured = options.measured;
    @Injectable()
    class MeasuredHandler {
      @Subscribe(measured.filter, { qos: measured.qos })
      onMessage(_payload: Buffer): void {
        measured.onMessage();
      }
    }
    providers.push(MeasuredHandler);
  }

  @Module({
    imports: [
      MqttModule.forRoot({
        MQTT_BROKER_URL: host,
        MQTT_BROKER_PORT: port,
        MQTT_CLIENT_ID: options.clientId,
      }),
    ],
    providers,
  })
  class BenchModuleApp {}
  return BenchModuleApp;
}

/** Bootstraps a module app: resolves once connected and every subscription was acknowledged. */
export async function startModuleApp(
  appModule: Type,
): Promise<{ service: MqttService; close: () => Promise<void> }> {
  const app = await NestFactory.createApplicationContext(appModule, { logger: LOG_LEVELS });
  await app.init();
  return { service: app.get(MqttService), close: () => app.close() };
}

/** Options of {@link startNestTransportApp}. */
export interface NestTransportAppOptions {
  readonly url: string;
  readonly clientId: string;
  readonly measured: { filter: string; qos: MqttQos; onMessage: () => void };
  /** Patterns of the other `@EventPattern` handlers, registered before the measured one. */
  readonly others: readonly string[];
  /**
   * Readiness probe: a topic matching the measured filter, and how many messages the measured
   * handler got so far. The transport does not wait for its SUBACKs (nor send its SUBSCRIBEs
   * before a SUBSCRIBE made after `listen()`), so the app is ready once a probe went through the
   * measured pattern, which it subscribes last.
   */
  readonly probe: { topic: string; received: () => number };
}

/**
 * Starts a microservice on `@nestjs/microservices`' MQTT transport with the other patterns first
 * and the measured one last, and resolves once the broker acknowledged every subscription.
 */
export async function startNestTransportApp(
  options: NestTransportAppOptions,
): Promise<{ close: () => Promise<void>; patterns: string[]; client: MqttClient }> {
  const { measured } = options;
  const controllers = handlerClasses(
    options.others,
    100,
    (filter) => EventPattern<string>(filter),
    Controller(),
    'OtherControllers',
  );

  @Controller()
  class MeasuredController {
    @EventPattern<string>(measured.filter, { qos: measured.qos })
    onMessage(): void {
      measured.onMessage();
    }
  }
  controllers.push(MeasuredController);

  @Module({ controllers })
  class BenchNestTransportApp {}

  const app = await NestFactory.createMicroservice<MicroserviceOptions>(BenchNestTransportApp, {
    transport: Transport.MQTT,
    options: {
      url: options.url,
      clientId: options.clientId,
      subscribeOptions: { qos: measured.qos },
    },
    logger: LOG_LEVELS,
  });
  await app.listen();
  const client = app.unwrap<MqttClient>();
  const { probe } = options;
  const deadline = Date.now() + 120_000;
  while (probe.received() === 0) {
    if (Date.now() > deadline) throw new Error('the Nest transport app never got a probe message');
    await client.publishAsync(probe.topic, '{}', { qos: 0 });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Let the last probes in flight arrive before the benchmark counts messages.
  for (let seen = -1; seen !== probe.received();) {
    seen = probe.received();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const handlers = (
    app as unknown as { serverInstance?: { messageHandlers?: Map<string, unknown> } }
  ).serverInstance?.messageHandlers;
  return {
    close: () => app.close(),
    patterns: handlers ? [...handlers.keys()] : [],
    client,
  };
}

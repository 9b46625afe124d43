/**
 * Apps on `nestjs-mqtt` built at run time: one measured `@Subscribe` handler of a given shape
 * (shared.HandlerShape) plus any number of other handlers; or no handler (publisher, requester).
 */
import { Injectable, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MqttModule, MqttService, Payload, Subscribe, TopicParam, type MqttQos } from 'nestjs-mqtt';
import type { HandlerShape } from '../src/shared';
import { handlerClasses, hostPort, LOG_LEVELS } from './apps';
import type { MessageSink } from './drain-counter';
import { ReadingDto } from './reading.dto';

/** The measured handler: its filter (with a plain `+`), QoS, shape and sink. */
export interface MeasuredHandler {
  readonly filter: string;
  readonly qos: MqttQos;
  readonly shape: HandlerShape;
  readonly sink: MessageSink;
}

/** Options of {@link moduleAppModule}. */
export interface ModuleAppOptions {
  readonly url: string;
  readonly clientId: string;
  /** The measured handler; omitted for an app without one. */
  readonly measured?: MeasuredHandler;
  /** Filters of the other `@Subscribe` handlers. */
  readonly others?: readonly string[];
  /** Handler methods per provider class. @default 100 */
  readonly perClass?: number;
  /** Extra `MQTT_*` keys (MQTT_PROTOCOL_VERSION, ...). */
  readonly keys?: Record<string, string | number | boolean>;
  /** Extra providers (the request/reply responder). */
  readonly providers?: Type[];
}

/** The measured provider of one shape. */
function measuredProvider(measured: MeasuredHandler): Type {
  const { qos, sink } = measured;
  switch (measured.shape) {
    case 'device': {
      // `…/+/data` becomes `…/+id/data`: the id arrives as a named topic parameter.
      const filter = measured.filter.replace('/+/', '/+id/');
      @Injectable()
      class DeviceHandler {
        @Subscribe(filter, { qos })
        onReading(@TopicParam('id') id: string): void {
          sink.device(id);
        }
      }
      return DeviceHandler;
    }
    case 'dto': {
      @Injectable()
      class ReadingHandler {
        @Subscribe(measured.filter, { qos })
        onReading(@Payload() dto: ReadingDto): void {
          sink.reading(dto);
        }
      }
      return ReadingHandler;
    }
    default: {
      @Injectable()
      class CountHandler {
        @Subscribe(measured.filter, { qos })
        onMessage(_payload: Buffer): void {
          sink.hit();
        }
      }
      return CountHandler;
    }
  }
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
  if (options.measured) providers.push(measuredProvider(options.measured));
  providers.push(...(options.providers ?? []));

  @Module({
    imports: [
      MqttModule.forRoot({
        MQTT_BROKER_URL: host,
        MQTT_BROKER_PORT: port,
        MQTT_CLIENT_ID: options.clientId,
        ...options.keys,
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

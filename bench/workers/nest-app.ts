/**
 * Apps on `@nestjs/microservices`' MQTT transport built at run time: the other `@EventPattern`
 * handlers first, the measured one (of a given shape) last; the `dto` shape adds a global
 * `ValidationPipe`, as Nest's documentation recommends.
 */
import { Controller, Module, ValidationPipe, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Ctx,
  EventPattern,
  MqttContext as NestMqttContext,
  Payload as NestPayload,
  Transport,
  type MicroserviceOptions,
} from '@nestjs/microservices';
import type { MqttClient } from 'mqtt';
import { PAYLOAD } from '../src/shared';
import { handlerClasses, LOG_LEVELS, wildcardLevel } from './apps';
import type { MeasuredHandler } from './module-app';
import { ReadingDto } from './reading.dto';

/** Options of {@link startNestTransportApp}. */
export interface NestTransportAppOptions {
  readonly url: string;
  readonly clientId: string;
  readonly measured: MeasuredHandler;
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

/** The measured controller of one shape. */
function measuredController(measured: MeasuredHandler): Type {
  const { filter, qos, sink } = measured;
  switch (measured.shape) {
    case 'device': {
      const level = wildcardLevel(filter);
      @Controller()
      class DeviceController {
        @EventPattern<string>(filter, { qos })
        onReading(@Ctx() context: NestMqttContext): void {
          sink.device(context.getTopic().split('/')[level]);
        }
      }
      return DeviceController;
    }
    case 'dto': {
      @Controller()
      class ReadingController {
        @EventPattern<string>(filter, { qos })
        onReading(@NestPayload() dto: ReadingDto): void {
          sink.reading(dto);
        }
      }
      return ReadingController;
    }
    default: {
      @Controller()
      class CountController {
        @EventPattern<string>(filter, { qos })
        onMessage(): void {
          sink.hit();
        }
      }
      return CountController;
    }
  }
}

/**
 * Starts a microservice on `@nestjs/microservices`' MQTT transport with the other patterns first
 * and the measured one last, and resolves once a probe went through the measured pattern.
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
  controllers.push(measuredController(measured));

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
  if (measured.shape === 'dto') app.useGlobalPipes(new ValidationPipe());
  await app.listen();
  const client = app.unwrap<MqttClient>();
  const { probe } = options;
  const deadline = Date.now() + 120_000;
  while (probe.received() === 0) {
    if (Date.now() > deadline) throw new Error('the Nest transport app never got a probe message');
    await client.publishAsync(probe.topic, PAYLOAD, { qos: 0 });
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

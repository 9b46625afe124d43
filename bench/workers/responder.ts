/**
 * The answering side of the request/reply latency scenario (MQTT 5). BENCH_KIND picks it:
 * - `raw`: MQTT.js; on each request it publishes `{"ok":true}` to the request's response topic
 *   with its correlation data, at the request's QoS;
 * - `module`: a `nestjs-mqtt` app whose `@Subscribe` handler returns `{ ok: true }` (the module
 *   publishes it to the response topic, at the request's QoS);
 * - `nest`: an `@nestjs/microservices` MQTT transport app whose `@MessagePattern` handler returns
 *   `{ ok: true }` (the transport replies on `<pattern>/reply`, always at QoS 0).
 * Every contestant subscribes BENCH_TOPIC at QoS 1, so a request arrives at its own QoS.
 * Requests: `cpu` reports the CPU time the process used so far (µs), for CPU per exchange.
 */
import { Controller, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { connectAsync } from 'mqtt';
import { Subscribe } from 'nestjs-mqtt';
import { LOG_LEVELS } from './apps';
import { noDelay } from './apps';
import { env, profiler, ready, run, serve } from './ipc';
import { moduleAppModule, startModuleApp } from './module-app';

async function startRaw(
  url: string,
  clientId: string,
  topic: string,
): Promise<() => Promise<void>> {
  const client = await connectAsync(url, { clientId, protocolVersion: 5, reconnectPeriod: 0 });
  noDelay(client);
  client.on('message', (_topic, _payload, packet) => {
    const responseTopic = packet.properties?.responseTopic;
    if (!responseTopic) return;
    client.publish(responseTopic, JSON.stringify({ ok: true }), {
      qos: packet.qos,
      properties: { correlationData: packet.properties?.correlationData },
    });
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return () => client.endAsync();
}

async function startModule(
  url: string,
  clientId: string,
  topic: string,
): Promise<() => Promise<void>> {
  @Injectable()
  class Responder {
    @Subscribe(topic, { qos: 1 })
    onRequest(_payload: Buffer): { ok: boolean } {
      return { ok: true };
    }
  }
  const app = await startModuleApp(
    moduleAppModule({
      url,
      clientId,
      keys: { MQTT_PROTOCOL_VERSION: 5 },
      providers: [Responder],
    }),
  );
  return app.close;
}

async function startNest(
  url: string,
  clientId: string,
  topic: string,
): Promise<() => Promise<void>> {
  @Controller()
  class ResponderController {
    @MessagePattern(topic)
    onRequest(): { ok: boolean } {
      return { ok: true };
    }
  }
  @Module({ controllers: [ResponderController] })
  class BenchNestResponder {}
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(BenchNestResponder, {
    transport: Transport.MQTT,
    options: { url, clientId, protocolVersion: 5, subscribeOptions: { qos: 1 } },
    logger: LOG_LEVELS,
  });
  await app.listen();
  return () => app.close();
}

run(async () => {
  const kind = env('BENCH_KIND');
  const url = env('BENCH_URL');
  const clientId = env('BENCH_CLIENT_ID');
  const topic = env('BENCH_TOPIC');
  const starters = { raw: startRaw, module: startModule, nest: startNest };
  const start = starters[kind as keyof typeof starters];
  if (!start) throw new Error(`unknown BENCH_KIND ${kind}`);
  const close = await start(url, clientId, topic);
  serve(
    {
      cpu: () => {
        profiler.start();
        const cpu = process.cpuUsage();
        return cpu.user + cpu.system;
      },
    },
    close,
  );
  ready({ kind, topic });
});

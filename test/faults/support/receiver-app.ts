/**
 * The receiver of the fault suite, as a Nest app in its own process so that a test can SIGKILL
 * or SIGTERM it. Configured from the environment only (MqttModule.forRootAsync() with no
 * argument, so every MQTT_* key applies), plus:
 * - SEQ_TOPIC: the filter of its one @Subscribe handler (default `seq`);
 * - SEQ_QOS: the QoS of that subscription (default 1);
 * - HANDLER_DELAY_MS: how long each call works (default 0);
 * - HANDLER_CONCURRENCY: calls at once (default 1).
 * Prints JSON lines: {"event":"ready"}, {"event":"connected","sessionPresent"}, per message
 * {"event":"start","n"} and {"event":"done","n"}, and {"event":"sigterm"} when told to stop.
 * On SIGTERM it closes the app (the module's graceful shutdown) and lets Node exit by itself:
 * exit code 0 only when app.close() resolved and nothing was left running.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MqttModule, OnMqttConnect, Payload, Subscribe, type MqttEvent } from 'nestjs-mqtt';

import { emitEvent, runMain, stderrLogger } from '../../support/child-app';

const topic = process.env.SEQ_TOPIC ?? 'seq';
const qos = Number(process.env.SEQ_QOS ?? '1') as 0 | 1;
const delayMs = Number(process.env.HANDLER_DELAY_MS ?? '0');
const concurrency = Number(process.env.HANDLER_CONCURRENCY ?? '1');

@Injectable()
class Receiver {
  @Subscribe(topic, { qos, concurrency })
  async onMessage(@Payload() text: string): Promise<void> {
    const n = Number.parseInt(text, 10);
    emitEvent({ event: 'start', n });
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    emitEvent({ event: 'done', n });
  }

  @OnMqttConnect()
  onConnect(event: MqttEvent): void {
    if (event.type === 'connect') {
      emitEvent({ event: 'connected', sessionPresent: event.sessionPresent });
    }
  }
}

@Module({ imports: [MqttModule.forRootAsync()], providers: [Receiver] })
class ReceiverModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(ReceiverModule, { logger: stderrLogger });
  process.once('SIGTERM', () => {
    emitEvent({ event: 'sigterm' });
    app.close().then(
      () => emitEvent({ event: 'closed' }),
      (error: unknown) => {
        process.stderr.write(`app.close() failed: ${String(error)}\n`);
        process.exitCode = 1;
      },
    );
  });
  emitEvent({ event: 'ready', pid: process.pid });
}

runMain(main);

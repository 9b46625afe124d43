import type { INestApplicationContext } from '@nestjs/common';
import { generateAsyncApi, type AsyncApiDocument, type MqttConfigInput } from 'nestjs-mqtt';
import { demoDefaults } from './app.module';

/** The demo's AsyncAPI document, from its handlers and `@MqttPublishes()` declarations. */
export function demoAsyncApi(
  app: Pick<INestApplicationContext, 'get'>,
  config?: MqttConfigInput,
): AsyncApiDocument {
  return generateAsyncApi(app, {
    title: 'nestjs-mqtt demo',
    version: '1.0.0',
    description:
      'Simulated temperature sensors publish readings; the app validates them, keeps stats, ' +
      'raises alerts above DEMO_ALERT_CELSIUS and answers stats requests (MQTT 5 request/reply).',
    config,
    // The demo's keys with their defaults, as its ConfigModule reads them.
    lookup: (key) => process.env[key] ?? demoDefaults()[key],
  });
}

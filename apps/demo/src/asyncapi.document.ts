import type { INestApplicationContext } from '@nestjs/common';
import { generateAsyncApi, type AsyncApiDocument, type MqttConfigInput } from 'nestjs-mqtt';

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
  });
}

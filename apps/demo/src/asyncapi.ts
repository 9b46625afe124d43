/**
 * Writes the demo's AsyncAPI 3.0 document to a file, without connecting to any broker:
 *
 *   npm run asyncapi                   writes asyncapi.json in the current directory
 *   npm run asyncapi -- docs/api.json  writes it there ('-' for standard output)
 *
 * The app is created in Nest's preview mode, which instantiates no provider, so nothing connects
 * and no timer starts: the document comes from the classes' metadata alone. The server entry
 * comes from the same MQTT_* keys the demo reads (environment or .env), or, when no broker is
 * configured, from the embedded broker's address (127.0.0.1:DEMO_BROKER_PORT).
 */
import { ConfigModule } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MqttConfigInput } from 'nestjs-mqtt';
import { AppModule } from './app.module';
import { demoAsyncApi } from './asyncapi.document';
import { DEFAULT_BROKER_PORT } from './embedded-broker';

async function main(): Promise<void> {
  const out = process.argv[2] ?? 'asyncapi.json';
  const app = await NestFactory.createApplicationContext(AppModule, {
    preview: true,
    logger: ['error'],
    abortOnError: false,
  });
  try {
    await ConfigModule.envVariablesLoaded;
    const doc = demoAsyncApi(app, brokerConfig());
    const json = `${JSON.stringify(doc, null, 2)}\n`;
    if (out === '-') {
      process.stdout.write(json);
    } else {
      writeFileSync(out, json);
      const counts = `${Object.keys(doc.channels).length} channels, ${Object.keys(doc.operations).length} operations`;
      process.stdout.write(`AsyncAPI 3.0 document written to ${resolve(out)} (${counts})\n`);
    }
  } finally {
    await app.close();
  }
}

/** The MQTT_* keys of the environment; the embedded broker's address when none names a broker. */
function brokerConfig(): MqttConfigInput {
  const keys: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('MQTT_') && value !== undefined) keys[name] = value;
  }
  if (!keys.MQTT_BROKER_URL && !keys.MQTT_BROKER_PORT) {
    keys.MQTT_BROKER_URL = '127.0.0.1';
    keys.MQTT_BROKER_PORT = process.env.DEMO_BROKER_PORT || String(DEFAULT_BROKER_PORT);
  }
  return keys;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

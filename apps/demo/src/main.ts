/**
 * nestjs-mqtt demo: simulated temperature sensors, validated telemetry handlers, alerts, stats
 * and MQTT 5 request/reply.
 *
 *   npm run demo
 *       No broker needed: starts an embedded aedes broker on 127.0.0.1:1883 (or, when 1883 is
 *       taken, on a free port it names in the log) and connects to it.
 *   MQTT_BROKER_URL=localhost MQTT_BROKER_PORT=1883 npm run demo
 *       Uses that broker instead, e.g. a local Mosquitto (add MQTT_PROTOCOL_VERSION=MQTTv5 to see
 *       MqttService.request() answered by a @Subscribe handler).
 *   mosquitto_sub -h localhost -p <port> -t '#' -v
 *       Watches everything the demo sends (or -t 'demo/#' -v for the stats only).
 *
 *   http://127.0.0.1:8080/
 *       The live dashboard (its address is logged at start): connection, broker, telemetry per
 *       device, alerts, handled/failed counts per handler and the AsyncAPI document.
 *   npm run asyncapi
 *       Writes the AsyncAPI document to asyncapi.json, without connecting to any broker.
 *
 * Every MQTT_* key can also come from a .env file in the current directory. Demo settings:
 * DEMO_BROKER_PORT (embedded broker port, default 1883), DEMO_ALERT_CELSIUS (alert threshold,
 * default 30), DEMO_RUN_SECONDS (exit cleanly after N seconds; default: run until Ctrl-C),
 * DEMO_DASHBOARD_PORT (dashboard port, default 8080; 0 a free port; off: no dashboard),
 * DEMO_SIMULATOR (off: no simulated devices, only what outside clients publish).
 */
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { MQTT_CONFIG, type MqttConfig } from 'nestjs-mqtt';
import { AppModule } from './app.module';
import { DEFAULT_BROKER_PORT, EmbeddedBroker } from './embedded-broker';

const logger = new Logger('Demo');

async function main(): Promise<void> {
  // AppModule's ConfigModule.forRoot() has copied .env into process.env by now.
  await ConfigModule.envVariablesLoaded;
  const runSeconds = optionalNumber('DEMO_RUN_SECONDS', 0.1, 86_400);

  let embedded: EmbeddedBroker | undefined;
  if (!process.env.MQTT_BROKER_URL && !process.env.MQTT_BROKER_PORT) {
    if (/^(mqttv)?5$/i.test(process.env.MQTT_PROTOCOL_VERSION ?? '')) {
      throw new Error(
        'The embedded aedes broker speaks MQTT 3.1.1 only. For MQTT_PROTOCOL_VERSION=MQTTv5, point ' +
          'MQTT_BROKER_URL and MQTT_BROKER_PORT at an MQTT 5 broker (e.g. a local Mosquitto).',
      );
    }
    const port = optionalNumber('DEMO_BROKER_PORT', 1, 65_535) ?? DEFAULT_BROKER_PORT;
    embedded = await EmbeddedBroker.start(port);
    process.env.MQTT_BROKER_URL = embedded.host;
    process.env.MQTT_BROKER_PORT = String(embedded.port);
  }

  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(AppModule.withBroker(embedded), {
      abortOnError: false,
    });
  } catch (error) {
    await embedded?.close();
    throw error;
  }
  // SIGINT/SIGTERM: app.close(), which disconnects MQTT and then closes the embedded broker.
  app.enableShutdownHooks();

  const { host, port } = app.get<MqttConfig>(MQTT_CONFIG);
  logger.log(`Running. Watch the traffic with: mosquitto_sub -h ${host} -p ${port} -t '#' -v`);

  if (runSeconds === undefined) {
    logger.log('Press Ctrl-C to stop');
    return;
  }
  setTimeout(() => {
    logger.log(`DEMO_RUN_SECONDS=${runSeconds} elapsed, shutting down`);
    app.close().then(
      () => logger.log('Stopped'),
      (error: Error) => fail(error),
    );
  }, runSeconds * 1000);
}

/** Reads a numeric DEMO_* setting, or undefined when it is unset or empty. */
function optionalNumber(name: string, min: number, max: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function fail(error: unknown): void {
  logger.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}

main().catch(fail);

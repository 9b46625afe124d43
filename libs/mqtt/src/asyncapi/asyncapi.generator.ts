import type { INestApplicationContext } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { parseMqttConfig } from '../config/mqtt-config.parse';
import type { MqttConfig } from '../interfaces/mqtt-config.interface';
import { MQTT_CONFIG } from '../mqtt.constants';
import { buildAsyncApiDocument, DEFAULT_CONNECTION } from './asyncapi.document';
import { exploreMqttApi } from './asyncapi.explorer';
import type { AsyncApiDocument, AsyncApiOptions, AsyncApiServer } from './asyncapi.interfaces';

const PROTOCOLS: Record<MqttConfig['protocol'], string> = {
  mqtt: 'mqtt',
  mqtts: 'secure-mqtt',
  ws: 'ws',
  wss: 'wss',
};
const PROTOCOL_VERSIONS: Record<MqttConfig['protocolVersion'], string> = {
  3: '3.1',
  4: '3.1.1',
  5: '5',
};

/**
 * The AsyncAPI 3.0 document of an application's MQTT API, from its code: a channel per
 * subscribed filter (named wildcards become parameters) and per topic declared with
 * `@MqttPublishes()`, the `receive` operations of the `@Subscribe()` handlers (QoS, shared group,
 * connection), the `send` operations, payload schemas from the DTO classes' class-validator
 * rules, and the configured broker as server (host, port, protocol: never a user name or
 * password).
 *
 * `app` is the application (or a `ModuleRef`, from inside it). Works on a running app, on an app that was created but not initialised, and on one created
 * with `NestFactory.createApplicationContext(AppModule, { preview: true })`, which instantiates
 * nothing and so never connects (pass `options.config` there to get the server entry).
 *
 * @example
 * const doc = generateAsyncApi(app, { title: 'Telemetry', version: '2.1.0' });
 * writeFileSync('asyncapi.json', JSON.stringify(doc, null, 2));
 */
export function generateAsyncApi(
  app: Pick<INestApplicationContext, 'get'>,
  options: AsyncApiOptions = {},
): AsyncApiDocument {
  const modules = app.get(ModulesContainer, { strict: false });
  const config = configOf(app, options);
  const servers: Record<string, AsyncApiServer> = {};
  if (config) servers[DEFAULT_CONNECTION] = serverOf(config);
  Object.assign(servers, options.servers);
  return buildAsyncApiDocument({
    api: exploreMqttApi(modules),
    servers,
    sharedGroup: config?.sharedGroup,
    options,
  });
}

/** The app's resolved MQTT_CONFIG, else `options.config` (validated when given as MQTT_* keys). */
function configOf(
  app: Pick<INestApplicationContext, 'get'>,
  options: AsyncApiOptions,
): MqttConfig | undefined {
  let resolved: unknown;
  try {
    resolved = app.get(MQTT_CONFIG, { strict: false });
  } catch {
    resolved = undefined; // No MqttModule in this app, or not instantiated (preview mode).
  }
  if (isMqttConfig(resolved)) return resolved;
  if (!options.config) return undefined;
  if (isMqttConfig(options.config)) return options.config;
  return parseMqttConfig(options.config).config;
}

function isMqttConfig(value: unknown): value is MqttConfig {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as MqttConfig).host === 'string' &&
    typeof (value as MqttConfig).port === 'number' &&
    typeof (value as MqttConfig).protocol === 'string'
  );
}

/** The server entry of a broker configuration: where and how, never who (no credentials). */
export function serverOf(config: MqttConfig): AsyncApiServer {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const server: AsyncApiServer = {
    host: `${host}:${config.port}`,
    protocol: PROTOCOLS[config.protocol],
    protocolVersion: PROTOCOL_VERSIONS[config.protocolVersion],
  };
  if (config.protocol === 'ws' || config.protocol === 'wss') server.pathname = config.wsPath;
  const mqtt: Record<string, unknown> = {
    cleanSession: config.cleanSession,
    keepAlive: config.keepalive,
  };
  if (!config.clientIdGenerated) mqtt.clientId = config.clientId;
  if (config.will) {
    mqtt.lastWill = { topic: config.will.topic, qos: config.will.qos, retain: config.will.retain };
  }
  server.bindings = { mqtt: { ...mqtt, bindingVersion: '0.2.0' } };
  return server;
}

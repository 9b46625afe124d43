import type { INestApplicationContext } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ModulesContainer } from '@nestjs/core';
import { parseMqttConfig } from '../config/mqtt-config.parse';
import type { MqttConfig } from '../interfaces/mqtt-config.interface';
import { DEFAULT_MQTT_CONNECTION, getMqttConfigToken } from '../mqtt.tokens';
import { buildAsyncApiDocument } from './asyncapi.document';
import { exploreMqttApi } from './asyncapi.explorer';
import type { AsyncApiDocument, AsyncApiOptions, AsyncApiServer } from './asyncapi.interfaces';
import type { ConfigLookup } from './asyncapi.topics';

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
 * Named connections (`MqttModule.forRoot({ name })`) each get their server, and their operations
 * and channels refer to it. `${KEY}` in a filter takes the key's value from ConfigService (the
 * environment in preview mode), or becomes a `{KEY}` parameter when it has none.
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
  const api = exploreMqttApi(app.get(ModulesContainer, { strict: false }));
  const names = new Set<string>([DEFAULT_MQTT_CONNECTION]);
  for (const { subscribes } of api.handlers) {
    for (const { options: o } of subscribes) names.add(o.connection ?? DEFAULT_MQTT_CONNECTION);
  }
  for (const { options: o } of api.publishes) names.add(o.connection ?? DEFAULT_MQTT_CONNECTION);

  const servers: Record<string, AsyncApiServer> = {};
  const sharedGroups: Record<string, string | undefined> = {};
  for (const name of names) {
    const config =
      resolved(app, getMqttConfigToken(name)) ??
      (name === DEFAULT_MQTT_CONNECTION ? fromOptions(options) : undefined);
    if (!config) continue;
    servers[name] = serverOf(config);
    sharedGroups[name] = config.sharedGroup;
  }
  Object.assign(servers, options.servers);
  return buildAsyncApiDocument({
    api,
    servers,
    sharedGroups,
    lookup: options.lookup ?? configLookup(app),
    options,
  });
}

/** The instance of `token` when the app has resolved it (not in preview mode). */
function resolved(
  app: Pick<INestApplicationContext, 'get'>,
  token: string | symbol,
): MqttConfig | undefined {
  try {
    const value: unknown = app.get(token, { strict: false });
    return isMqttConfig(value) ? value : undefined;
  } catch {
    return undefined; // No such connection in this app.
  }
}

/** `options.config`, validated when given as MQTT_* keys. */
function fromOptions(options: AsyncApiOptions): MqttConfig | undefined {
  if (!options.config) return undefined;
  if (isMqttConfig(options.config)) return options.config;
  return parseMqttConfig(options.config).config;
}

/** Reads `${KEY}` of filters: the app's ConfigService when instantiated, else the environment. */
function configLookup(app: Pick<INestApplicationContext, 'get'>): ConfigLookup {
  let config: unknown;
  try {
    config = app.get(ConfigService, { strict: false });
  } catch {
    config = undefined;
  }
  if (config instanceof ConfigService) return (key) => config.get<unknown>(key);
  return (key) => process.env[key];
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

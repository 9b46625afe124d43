import { isIPv6 } from 'node:net';
import { parseBrokerList, type MqttBrokerAddress } from './mqtt-config.broker-url';
import { MQTT_SCHEME_PORTS, type MqttScheme, type MqttTransport } from './mqtt-config.constants';
import * as messages from './mqtt-config.messages';
import type { MqttConfigReader } from './mqtt-config.reader';

/** Where and how to connect, from MQTT_BROKER_URL and the keys it may conflict with. */
export interface MqttResolvedAddress {
  /** TLS is on. */
  readonly tls: boolean;
  /** The transport is websockets. */
  readonly ws: boolean;
  /** The first broker's host. */
  readonly host: string;
  /** The first broker's port. */
  readonly port: number;
  /** The port is MQTT_BROKER_PORT's default, chosen by nobody. */
  readonly portDefaulted: boolean;
  /** Every broker, the first one included, in order. */
  readonly brokers: { host: string; port: number }[];
  /** The websocket path. */
  readonly wsPath: string;
}

interface Transport {
  readonly tls: boolean;
  readonly ws: boolean;
}

/**
 * Resolves the brokers, the transport, the ports and the websocket path. A URL's scheme,
 * port and path take precedence; a key that says otherwise is an issue on MQTT_BROKER_URL.
 */
export function resolveAddress(reader: MqttConfigReader): MqttResolvedAddress {
  const addresses = brokerAddresses(reader);
  // Every scheme of a list is the same (checked by parseBrokerList); entries may leave it out.
  const scheme = addresses.find((a) => a.scheme)?.scheme;
  const { tls, ws } = resolveTransport(reader, scheme);
  const { port, portDefaulted } = resolvePort(reader, addresses, scheme);
  const brokers = resolveBrokers(reader, addresses, scheme, port);
  const wsPath = resolveWsPath(reader, addresses[0], ws);
  return { tls, ws, host: addresses[0].host, port, portDefaulted, brokers, wsPath };
}

function brokerAddresses(reader: MqttConfigReader): MqttBrokerAddress[] {
  const result = parseBrokerList(reader.valueOf<string>('MQTT_BROKER_URL'));
  return result.ok && result.value?.length ? result.value : [{ host: 'localhost' }];
}

function resolveTransport(reader: MqttConfigReader, scheme: MqttScheme | undefined): Transport {
  const tlsSetting = reader.get<boolean>('MQTT_TLS_ENABLED');
  const transportSetting = reader.get<MqttTransport>('MQTT_TRANSPORT');
  if (!scheme) return { tls: tlsSetting ?? false, ws: transportSetting === 'websockets' };

  const tls = scheme === 'mqtts' || scheme === 'wss';
  const ws = scheme === 'ws' || scheme === 'wss';
  if (tlsSetting !== undefined && tlsSetting !== tls) {
    reader.issue('MQTT_BROKER_URL', messages.urlTlsConflict(scheme, tlsSetting));
  }
  if (transportSetting !== undefined && (transportSetting === 'websockets') !== ws) {
    reader.issue('MQTT_BROKER_URL', messages.urlTransportConflict(scheme, transportSetting));
  }
  return { tls, ws };
}

/** The first broker's port: the URL's, else MQTT_BROKER_PORT, else the scheme's, else the default. */
function resolvePort(
  reader: MqttConfigReader,
  addresses: MqttBrokerAddress[],
  scheme: MqttScheme | undefined,
): { port: number; portDefaulted: boolean } {
  const address = addresses[0];
  const portSetting = reader.get<number>('MQTT_BROKER_PORT');
  if (address.port !== undefined) {
    const listed = addresses.length > 1;
    if (!listed && portSetting !== undefined && portSetting !== address.port) {
      reader.issue('MQTT_BROKER_URL', messages.urlPortConflict(address.port, portSetting));
    }
    return { port: address.port, portDefaulted: false };
  }
  if (portSetting !== undefined) return { port: portSetting, portDefaulted: false };
  if (scheme) return { port: MQTT_SCHEME_PORTS[scheme], portDefaulted: false };
  return {
    port: reader.valueOf<number>('MQTT_BROKER_PORT'),
    portDefaulted: !reader.bad('MQTT_BROKER_PORT'),
  };
}

/** Gives every broker its port and refuses a list that names one broker twice. */
function resolveBrokers(
  reader: MqttConfigReader,
  addresses: MqttBrokerAddress[],
  scheme: MqttScheme | undefined,
  port: number,
): { host: string; port: number }[] {
  // In a list, MQTT_BROKER_PORT (else the scheme's port) is the port of entries without one.
  const fallbackPort =
    reader.get<number>('MQTT_BROKER_PORT') ??
    (scheme ? MQTT_SCHEME_PORTS[scheme] : reader.valueOf<number>('MQTT_BROKER_PORT'));
  const brokers = addresses.map((entry) => ({
    host: entry.host,
    port: entry === addresses[0] ? port : (entry.port ?? fallbackPort),
  }));
  const seen = new Set<string>();
  for (const broker of brokers) {
    const hostPort = `${isIPv6(broker.host) ? `[${broker.host}]` : broker.host}:${broker.port}`;
    if (seen.has(hostPort)) {
      reader.issue('MQTT_BROKER_URL', messages.brokerListDuplicate(hostPort));
      break;
    }
    seen.add(hostPort);
  }
  return brokers;
}

function resolveWsPath(reader: MqttConfigReader, address: MqttBrokerAddress, ws: boolean): string {
  const wsPathSetting = reader.get<string>('MQTT_WS_PATH');
  let wsPath = wsPathSetting ?? reader.valueOf<string>('MQTT_WS_PATH');
  if (address.path !== undefined) {
    if (wsPathSetting !== undefined && wsPathSetting !== address.path) {
      reader.issue('MQTT_BROKER_URL', messages.urlPathConflict(address.path, wsPathSetting));
    }
    wsPath = address.path;
  }
  if (!ws && wsPathSetting !== undefined) reader.warn(messages.wsPathIgnored());
  return wsPath;
}

import type { Provider } from '@nestjs/common';
import type { MqttModuleOptions } from 'nestjs-mqtt';

import { compileMqttApp, startMqttApp, type MqttTestApp } from '../support';
import type { FakeBroker } from '../support/fake-broker';

/** Keys every protocol suite uses: MQTT 5, a fixed client id, short reconnect and shutdown. */
export const PROTOCOL_KEYS = {
  MQTT_PROTOCOL_VERSION: 'MQTTv5',
  MQTT_RECONNECT_PERIOD: 1,
  MQTT_SHUTDOWN_TIMEOUT: 1,
} as const;

let appCount = 0;

/** The keys for an app connecting to `broker`, with a client id of its own. */
function keysFor(broker: FakeBroker, options: MqttModuleOptions): MqttModuleOptions {
  return {
    ...PROTOCOL_KEYS,
    MQTT_CLIENT_ID: `protocol-${process.pid}-${++appCount}`,
    MQTT_BROKER_URL: '127.0.0.1',
    MQTT_BROKER_PORT: broker.port,
    ...options,
  };
}

/** A started Nest app with `MqttModule.forRoot()` connected to the fake broker. */
export function startProtocolApp(
  broker: FakeBroker,
  options: MqttModuleOptions = {},
  providers: Provider[] = [],
): Promise<MqttTestApp> {
  return startMqttApp({ options: keysFor(broker, options), providers });
}

/** The same, compiled but not initialised (to assert on how the bootstrap fails). */
export function compileProtocolApp(
  broker: FakeBroker,
  options: MqttModuleOptions = {},
  providers: Provider[] = [],
): Promise<MqttTestApp> {
  return compileMqttApp({ options: keysFor(broker, options), providers });
}

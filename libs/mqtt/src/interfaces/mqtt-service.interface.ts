import type { IClientPublishOptions } from 'mqtt';
import type { MqttQos } from './subscribe-options.interface';

/**
 * Where the connection stands: `idle` before bootstrap, `connecting` until the first CONNACK,
 * then `connected`, `offline` (lost) and `reconnecting`, and `closed` after shutdown.
 */
export type MqttConnectionState =
  'idle' | 'connecting' | 'connected' | 'offline' | 'reconnecting' | 'closed';

/** What `MqttService.events$` reports. */
export type MqttEvent =
  | { type: 'connect'; sessionPresent: boolean; /** `host:port` connected to. */ broker: string }
  | { type: 'reconnect'; attempt: number }
  | { type: 'offline' }
  | { type: 'close' }
  | { type: 'disconnect'; reasonCode: number }
  | { type: 'error'; error: Error }
  | { type: 'subscribe'; filter: string; qos: MqttQos; granted: number }
  | { type: 'log'; level: 'log' | 'warn' | 'error'; message: string };

/** Options of `MqttService.publish()`. */
export interface MqttPublishOptions {
  /** @default 0 */
  qos?: MqttQos;
  /** @default false */
  retain?: boolean;
  /** MQTT 5 properties (user properties, content type, response topic, ...). */
  properties?: IClientPublishOptions['properties'];
}

/** Options of `MqttService.request()`. */
export interface MqttRequestOptions extends Omit<MqttPublishOptions, 'retain'> {
  /** Milliseconds to wait for the reply. @default 5000 */
  timeout?: number;
}

/** A runtime subscription made with `MqttService.subscribe()`. */
export interface MqttSubscription {
  /** The filters as written. */
  readonly filters: readonly string[];
  /** Removes this handler, and unsubscribes at the broker when no other handler needs the filter. */
  unsubscribe(): Promise<void>;
}

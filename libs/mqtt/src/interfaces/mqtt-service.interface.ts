import type { IClientPublishOptions } from 'mqtt';
import type { MqttHandlerStats } from '../dispatch/handler-lane';
import type { MqttQos } from './subscribe-options.interface';

export type { MqttHandlerStats };

/**
 * Where the connection stands: `idle` before bootstrap, `connecting` until the first CONNACK,
 * then `connected`, `offline` (lost) and `reconnecting`, and `closed` after shutdown.
 */
export type MqttConnectionState =
  'idle' | 'connecting' | 'connected' | 'offline' | 'reconnecting' | 'closed';

/** What `MqttService.events$` reports; `connection` names the connection it came from. */
export type MqttEvent = (
  | { type: 'connect'; sessionPresent: boolean }
  | { type: 'reconnect'; attempt: number }
  | { type: 'offline' }
  | { type: 'close' }
  | { type: 'disconnect'; reasonCode: number }
  | { type: 'error'; error: Error }
  | { type: 'subscribe'; filter: string; qos: MqttQos; granted: number }
  | { type: 'log'; level: 'log' | 'warn' | 'error'; message: string }
  | {
      /** One handler call settled (sent only while someone listens to `events$`). */
      type: 'message';
      handler: string;
      topic: string;
      outcome: 'handled' | 'failed' | 'timeout';
      durationMs: number;
    }
  | { type: 'publish'; topic: string; qos: MqttQos }
) & { connection?: string };

/** Where a connection stands, from `MqttService.status()`. */
export interface MqttStatus {
  /** The connection's name (`'default'` unless named). */
  name: string;
  state: MqttConnectionState;
  /** The broker URL in use (never with credentials). */
  broker: string;
  /** When the current connection was established; undefined while not connected. */
  connectedSince?: Date;
  /** Reconnect attempts since the connection was lost (0 while connected). */
  reconnectAttempts: number;
  /** The last connection error or broker DISCONNECT reason. */
  lastError?: string;
  /** When the last message was received. */
  lastMessageAt?: Date;
  /** Whether the broker resumed a session at the last CONNACK. */
  sessionPresent?: boolean;
}

/** Counters of one connection, from `MqttService.stats()`. */
export interface MqttStats {
  /** Messages published through `publish()` (dead letters and replies included). */
  published: number;
  /** Publishes waiting for the connection to come back. */
  queuedOffline: number;
  /** Handler calls that settled (handled or failed). */
  received: number;
  /** QoS 0 messages dropped because their handler's queue was full. */
  dropped: number;
  handlers: MqttHandlerStats[];
}

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

import type { IPublishPacket } from 'mqtt';

/** User properties of an MQTT 5 packet. */
export type MqttUserProperties = Record<string, string | string[]>;

/** One incoming message, as handlers and enhancers see it. */
export interface MqttMessage {
  /** The topic the message was published to. */
  readonly topic: string;
  /** The payload, byte for byte as received. */
  readonly payload: Buffer;
  /** The raw MQTT.js PUBLISH packet (qos, retain, dup, MQTT 5 properties). */
  readonly packet: IPublishPacket;
  /**
   * Values of the named wildcards of the filter that matched (`+deviceId`, `#path`). Built on
   * first read (a getter), so `{ ...message }` and `JSON.stringify(message)` leave it out: copy
   * it by name.
   */
  readonly params: Readonly<Record<string, string>>;
  /** The filter, as written in `@Subscribe()` or `subscribe()`, that routed the message here. */
  readonly filter: string;
}

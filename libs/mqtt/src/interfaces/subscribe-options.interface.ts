/** QoS levels of MQTT. */
export type MqttQos = 0 | 1 | 2;

/** Options of `@Subscribe()` and `MqttService.subscribe()`. */
export interface MqttSubscribeOptions {
  /** Highest QoS asked of the broker. When several handlers share a filter, the highest wins. @default 0 */
  qos?: MqttQos;
  /**
   * Shared-subscription group: replicas that use the same group split the messages between them
   * (`$share/<group>/<filter>`). Overrides `MQTT_SHARED_GROUP`; `false` opts out of it.
   */
  share?: string | false;
  /** MQTT 5 No Local: do not receive the messages this client publishes. @default false */
  nl?: boolean;
  /** MQTT 5 Retain As Published. @default false */
  rap?: boolean;
  /** MQTT 5 Retain Handling: 0 send retained, 1 only for new subscriptions, 2 never. @default 0 */
  rh?: 0 | 1 | 2;
  /**
   * How many messages this handler works on at once. The default, 1, keeps messages in order.
   * QoS 1/2 messages are acknowledged after their handlers settle. @default 1
   */
  concurrency?: number;
  /**
   * Milliseconds a call may take; past it the message counts as failed (logged, dead-lettered,
   * acknowledged) and the handler takes the next one. 0: no limit. @default MQTT_HANDLER_TIMEOUT
   */
  timeout?: number;
  /**
   * When QoS 1/2 messages are acknowledged: `'after-handler'` (redelivered if the app dies
   * first) or `'on-receipt'` (never held up by this handler; lost if the app dies first).
   * @default 'after-handler'
   */
  ack?: 'after-handler' | 'on-receipt';
  /** The named connection (`MqttModule.forRoot({ name })`) to subscribe on. @default 'default' */
  connection?: string;
}

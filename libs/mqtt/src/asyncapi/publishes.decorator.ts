import type { Type } from '@nestjs/common';
import type { MqttQos } from '../interfaces/subscribe-options.interface';
import type { AsyncApiSchema } from './asyncapi.interfaces';

/** Metadata key of `@MqttPublishes()`: on a class, or on a method. */
export const MQTT_PUBLISHES_METADATA = 'nestjs-mqtt:publishes';

/** Options of `@MqttPublishes()`. */
export interface MqttPublishesOptions {
  /** QoS the messages are published with. @default 0 */
  qos?: MqttQos;
  /** Whether the messages are retained. @default false */
  retain?: boolean;
  /** One line shown as the send operation's summary. @default undefined */
  summary?: string;
  /** Longer text of the send operation (CommonMark). @default undefined */
  description?: string;
  /** Named connection the messages go out on (`MqttModule.forRoot({ name })`). @default the default connection */
  connection?: string;
  /** Name of the message in the document. @default the payload class name, or `<channel>Message` */
  messageName?: string;
}

/** What `@MqttPublishes()` records: one entry per decorator, stackable. */
export interface MqttPublishesMetadata {
  /** The topic, with `{name}` (or `+name`) for each level that varies: `alerts/{deviceId}`. */
  readonly topic: string;
  /** The payload: a class (its class-validator rules become the schema) or a JSON Schema. */
  readonly payload?: Type<unknown> | AsyncApiSchema;
  readonly options: MqttPublishesOptions;
}

/**
 * Declares a message the application sends, for the AsyncAPI document (`generateAsyncApi()`): it
 * becomes a `send` operation on the channel of `topic`, with the payload schema of `payload`.
 * It only records metadata: publishing still goes through `MqttService.publish()`. Put it on the
 * method that publishes, or on its class; stackable.
 *
 * @param topic The topic, with `{name}` (or `+name`) for each level that varies, as in
 *   `alerts/{deviceId}`. A level of the form `{name}` becomes a channel parameter.
 * @param payload The payload class (its class-validator rules become the schema: types, ranges,
 *   lengths, enums, nested classes, arrays, optional properties), a JSON Schema object, or
 *   `String` / `Buffer`. Omitted: any payload.
 * @param options QoS, retain, texts and connection of the messages.
 *
 * @example
 * \@MqttPublishes('alerts/{deviceId}', TemperatureAlertDto, { qos: 1 })
 * async raiseAlert(deviceId: string, alert: TemperatureAlertDto) { ... }
 */
export function MqttPublishes(
  topic: string,
  payload?: Type<unknown> | AsyncApiSchema,
  options: MqttPublishesOptions = {},
): ClassDecorator & MethodDecorator {
  const entry: MqttPublishesMetadata = { topic, payload, options };
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = (descriptor?.value as object | undefined) ?? target;
    const previous: MqttPublishesMetadata[] =
      Reflect.getMetadata(MQTT_PUBLISHES_METADATA, holder) ?? [];
    Reflect.defineMetadata(MQTT_PUBLISHES_METADATA, [...previous, entry], holder);
    return descriptor as never;
  };
}

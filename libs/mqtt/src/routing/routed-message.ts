import type { IPublishPacket } from 'mqtt';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import { extractTopicParams, topicParam } from './topic-params';
import type { ParsedFilter } from './topic.utils';

/**
 * One received message as one handler sees it. `params` is built on first read: most handlers
 * never read the whole record (`@TopicParam('id')` reads one value through `param()`), and a
 * record with the filter's own keys is the costliest object of a message to build.
 */
export class RoutedMessage implements MqttMessage {
  readonly payload: Buffer;
  /** The filter as written in `@Subscribe()` or `subscribe()`. */
  readonly filter: string;
  readonly #parsed: ParsedFilter;
  #params: Readonly<Record<string, string>> | undefined = undefined;

  constructor(
    readonly topic: string,
    readonly packet: IPublishPacket,
    parsed: ParsedFilter,
  ) {
    this.payload = packet.payload as Buffer;
    this.filter = parsed.raw;
    this.#parsed = parsed;
  }

  /** Values of the named wildcards of the filter that matched (`+deviceId`, `#path`). */
  get params(): Readonly<Record<string, string>> {
    return (this.#params ??= extractTopicParams(this.#parsed, this.topic));
  }

  /** The value of one named wildcard (undefined: the filter has no such name). */
  param(name: string): string | undefined {
    return this.#params !== undefined
      ? this.#params[name]
      : topicParam(this.#parsed, this.topic, name);
  }
}

import type { MqttSubscribeOptions } from '../interfaces/subscribe-options.interface';
import { DEFAULT_MQTT_CONNECTION } from '../mqtt.tokens';
import type { ExploredApi, ExploredHandler, ExploredPublish } from './asyncapi.explorer';
import type {
  AsyncApiChannel,
  AsyncApiDocument,
  AsyncApiMessage,
  AsyncApiOperation,
  AsyncApiOptions,
  AsyncApiSchema,
  AsyncApiServer,
} from './asyncapi.interfaces';
import { payloadSchema, SchemaRegistry } from './asyncapi.schema';
import {
  channelId,
  filterAddress,
  topicAddress,
  type ChannelAddress,
  type ConfigLookup,
} from './asyncapi.topics';

/** The MQTT bindings version the document's `bindings.mqtt` objects follow. */
const MQTT_BINDING_VERSION = '0.2.0';

/** What the document builder needs besides the explored metadata. */
export interface DocumentInput {
  readonly api: ExploredApi;
  /** Servers by connection name, credentials already left out. */
  readonly servers: Record<string, AsyncApiServer>;
  /** `MQTT_SHARED_GROUP` of each connection: the group of its handlers without `share`. */
  readonly sharedGroups: Readonly<Record<string, string | undefined>>;
  /** Reads the configuration keys of `${KEY}` in filters. */
  readonly lookup?: ConfigLookup;
  readonly options: AsyncApiOptions;
}

/**
 * Builds the AsyncAPI 3.0 document: a channel per distinct address (subscribed filters and
 * declared publish topics that share an address share a channel), a `receive` operation per
 * handler and filter, a `send` operation per `@MqttPublishes()`, payload schemas in
 * `components.schemas`, messages in `components.messages`.
 */
export function buildAsyncApiDocument(input: DocumentInput): AsyncApiDocument {
  const builder = new DocumentBuilder(input);
  for (const handler of input.api.handlers) builder.addHandler(handler);
  for (const publish of input.api.publishes) builder.addPublish(publish);
  return builder.finish();
}

interface PendingReceive {
  readonly id: string;
  readonly channel: string;
}

class DocumentBuilder {
  private readonly registry = new SchemaRegistry();
  private readonly channels: Record<string, AsyncApiChannel> = {};
  private readonly byAddress = new Map<string, string>();
  private readonly operations: Record<string, AsyncApiOperation> = {};
  private readonly messages: Record<string, AsyncApiMessage> = {};
  private readonly messageKeys = new Map<unknown, string>();
  /** Receive operations of handlers that do not read the payload: any message of the channel. */
  private readonly untyped: PendingReceive[] = [];

  constructor(private readonly input: DocumentInput) {}

  addHandler(handler: ExploredHandler): void {
    let index = 0;
    for (const { filters, options } of handler.subscribes) {
      for (const filter of filters) {
        const address = filterAddress(filter, this.input.lookup);
        const connection = options.connection ?? DEFAULT_MQTT_CONNECTION;
        const channel = this.channel(address, connection);
        (this.channels[channel]['x-mqtt-filters'] ??= []).push(filter);
        const id = unique(
          this.operations,
          index++ === 0 ? handler.name : `${handler.name}_${index}`,
        );
        const operation: AsyncApiOperation = {
          action: 'receive',
          channel: { $ref: `#/channels/${channel}` },
          messages: [],
          summary: `Handled by ${handler.name}`,
          bindings: { mqtt: { qos: options.qos ?? 0, bindingVersion: MQTT_BINDING_VERSION } },
          'x-mqtt-filter': filter,
          'x-handler': handler.name,
          'x-mqtt-connection': connection,
        };
        const share = address.share ?? this.shareOf(options, connection);
        if (share !== undefined) operation['x-mqtt-share'] = share;
        const extra = subscribeExtras(options);
        if (extra) operation['x-mqtt-subscribe'] = extra;
        this.operations[id] = operation;
        const payload = handler.payload;
        if (payload.kind === 'unread') {
          this.untyped.push({ id, channel });
        } else {
          const schema =
            payload.kind === 'whole'
              ? payloadSchema(payload.type, this.registry)
              : fieldsSchema(payload.fields, this.registry);
          const key = this.message(
            channel,
            payload.kind === 'whole' ? payload.type : undefined,
            schema,
          );
          operation.messages.push({ $ref: `#/channels/${channel}/messages/${key}` });
        }
      }
    }
  }

  addPublish(publish: ExploredPublish): void {
    const { topic, payload, options } = publish;
    const connection = options.connection ?? DEFAULT_MQTT_CONNECTION;
    const channel = this.channel(topicAddress(topic, this.input.lookup), connection);
    const schema =
      typeof payload === 'function' ? payloadSchema(payload, this.registry) : (payload ?? {});
    const key = this.message(channel, payload, schema, options.messageName);
    const bindings: Record<string, unknown> = { qos: options.qos ?? 0 };
    if (options.retain) bindings.retain = true;
    const operation: AsyncApiOperation = {
      action: 'send',
      channel: { $ref: `#/channels/${channel}` },
      messages: [{ $ref: `#/channels/${channel}/messages/${key}` }],
      summary: options.summary ?? `Published by ${publish.declaredBy}`,
      bindings: { mqtt: { ...bindings, bindingVersion: MQTT_BINDING_VERSION } },
      'x-handler': publish.declaredBy,
      'x-mqtt-connection': connection,
    };
    if (options.description) operation.description = options.description;
    this.operations[unique(this.operations, `${publish.declaredBy}.send`)] = operation;
  }

  finish(): AsyncApiDocument {
    for (const { id, channel } of this.untyped) {
      const keys = Object.keys(this.channels[channel].messages);
      if (keys.length === 0) keys.push(this.message(channel, undefined, {}));
      this.operations[id].messages = keys.map((k) => ({
        $ref: `#/channels/${channel}/messages/${k}`,
      }));
    }
    const { options, servers } = this.input;
    const doc: AsyncApiDocument = {
      asyncapi: '3.0.0',
      info: { title: options.title ?? 'MQTT API', version: options.version ?? '1.0.0' },
      defaultContentType: 'application/json',
      channels: this.channels,
      operations: this.operations,
      components: { messages: this.messages, schemas: this.registry.schemas },
    };
    if (options.description) doc.info.description = options.description;
    if (Object.keys(servers).length > 0) doc.servers = servers;
    return doc;
  }

  private shareOf(options: MqttSubscribeOptions, connection: string): string | undefined {
    if (options.share === false) return undefined;
    return options.share ?? this.input.sharedGroups[connection];
  }

  /** The id of the channel of `address`, created on first use; adds the connection's server. */
  private channel(address: ChannelAddress, connection: string): string {
    let id = this.byAddress.get(address.address);
    if (id === undefined) {
      id = unique(this.channels, channelId(address.address));
      this.byAddress.set(address.address, id);
      this.channels[id] = { address: address.address, messages: {} };
    }
    const channel = this.channels[id];
    if (Object.keys(address.parameters).length > 0) {
      channel.parameters = { ...address.parameters, ...channel.parameters };
    }
    if (connection in this.input.servers) {
      const ref = { $ref: `#/servers/${connection}` };
      channel.servers ??= [];
      if (!channel.servers.some((s) => s.$ref === ref.$ref)) channel.servers.push(ref);
    }
    return id;
  }

  /**
   * The key of the message for `type` in `channel`, added to the channel and to the components.
   * A class or schema object is one message wherever it is used; a built-in type or no type is
   * one message per channel.
   */
  private message(channel: string, type: unknown, payload: AsyncApiSchema, name?: string): string {
    const shared =
      (typeof type === 'object' && type !== null) ||
      (typeof type === 'function' && !isBuiltIn(type));
    const cacheKey = shared ? type : `${channel}:${typeof type === 'function' ? type.name : ''}`;
    let key = name ?? this.messageKeys.get(cacheKey);
    if (key === undefined) {
      const title = (type as { title?: unknown } | undefined)?.title;
      const base =
        shared && typeof type === 'function' && type.name
          ? type.name
          : shared && typeof title === 'string' && /^[\w.-]+$/.test(title)
            ? title
            : `${channel}.message`;
      key = unique(this.messages, base);
      this.messageKeys.set(cacheKey, key);
    }
    this.messages[key] ??= { name: key, contentType: contentTypeOf(payload), payload };
    this.channels[channel].messages[key] = { $ref: `#/components/messages/${key}` };
    return key;
  }
}

function contentTypeOf(payload: AsyncApiSchema): string {
  if (payload.type !== 'string') return 'application/json';
  return payload.format === 'binary' ? 'application/octet-stream' : 'text/plain';
}

function isBuiltIn(type: unknown): boolean {
  return [String, Number, Boolean, Buffer, Object, Array].includes(type as never);
}

function fieldsSchema(fields: Record<string, unknown>, registry: SchemaRegistry): AsyncApiSchema {
  const properties: Record<string, AsyncApiSchema> = {};
  for (const [field, type] of Object.entries(fields))
    properties[field] = payloadSchema(type, registry);
  return { type: 'object', properties, required: Object.keys(properties) };
}

/** Subscribe options with no place in the MQTT bindings, kept as an `x-` extension. */
function subscribeExtras(options: MqttSubscribeOptions): Record<string, unknown> | undefined {
  const keys = ['concurrency', 'timeout', 'ack', 'nl', 'rap', 'rh'] as const;
  const extra: Record<string, unknown> = {};
  for (const key of keys) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) extra[key] = value;
  }
  return Object.keys(extra).length > 0 ? extra : undefined;
}

/** `base`, or `base_2`, `base_3`, ... whichever is not a key of `taken` yet. */
function unique(taken: object, base: string): string {
  let key = base;
  for (let n = 2; key in taken; n++) key = `${base}_${n}`;
  return key;
}

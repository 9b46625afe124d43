import type { MqttConfig, MqttConfigInput } from '../interfaces/mqtt-config.interface';

/** A JSON Schema (draft 07, as AsyncAPI 3.0 payloads use it). */
export interface AsyncApiSchema {
  type?: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: AsyncApiSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: Record<string, AsyncApiSchema>;
  required?: string[];
  additionalProperties?: boolean | AsyncApiSchema;
  minProperties?: number;
  title?: string;
  description?: string;
  $ref?: string;
  [extension: `x-${string}`]: unknown;
}

/** A `$ref` to another part of the document. */
export interface AsyncApiRef {
  $ref: string;
}

/** An AsyncAPI 3.0 server: a broker the application connects to (never with credentials). */
export interface AsyncApiServer {
  host: string;
  protocol: string;
  protocolVersion?: string;
  pathname?: string;
  description?: string;
  bindings?: { mqtt: Record<string, unknown> };
}

/** An AsyncAPI 3.0 message. */
export interface AsyncApiMessage {
  name: string;
  title?: string;
  contentType?: string;
  payload: AsyncApiSchema;
}

/** An AsyncAPI 3.0 channel: one topic (or topic filter) with its parameters. */
export interface AsyncApiChannel {
  address: string;
  title?: string;
  description?: string;
  parameters?: Record<string, { description?: string }>;
  messages: Record<string, AsyncApiRef>;
  servers?: AsyncApiRef[];
  /** The MQTT topic filter the application subscribes to, as written in `@Subscribe()`. */
  'x-mqtt-filters'?: string[];
}

/** An AsyncAPI 3.0 operation: a subscription (`receive`) or a declared publish (`send`). */
export interface AsyncApiOperation {
  action: 'send' | 'receive';
  channel: AsyncApiRef;
  messages: AsyncApiRef[];
  title?: string;
  summary?: string;
  description?: string;
  bindings?: { mqtt: Record<string, unknown> };
  /** Shared subscription group (`$share/<group>/<filter>`) of a receive operation. */
  'x-mqtt-share'?: string;
  /** Named connection of the operation (`default` for the default one). */
  'x-mqtt-connection'?: string;
  /** The topic filter of a receive operation, as written in `@Subscribe()`. */
  'x-mqtt-filter'?: string;
  /** The handler (`Class.method`) that receives or sends. */
  'x-handler'?: string;
  /** Extra `@Subscribe()` options: handler concurrency, timeout, acknowledgement mode. */
  'x-mqtt-subscribe'?: Record<string, unknown>;
}

/** An AsyncAPI 3.0 document, as `generateAsyncApi()` returns it (plain JSON). */
export interface AsyncApiDocument {
  asyncapi: '3.0.0';
  info: { title: string; version: string; description?: string };
  defaultContentType: string;
  servers?: Record<string, AsyncApiServer>;
  channels: Record<string, AsyncApiChannel>;
  operations: Record<string, AsyncApiOperation>;
  components: {
    messages: Record<string, AsyncApiMessage>;
    schemas: Record<string, AsyncApiSchema>;
  };
}

/** Options of `generateAsyncApi()`. */
export interface AsyncApiOptions {
  /** `info.title`. @default 'MQTT API' */
  title?: string;
  /** `info.version`. @default '1.0.0' */
  version?: string;
  /** `info.description` (CommonMark). @default undefined */
  description?: string;
  /**
   * The broker configuration, for an app whose providers were not instantiated (created with
   * `{ preview: true }`): the validated `MqttConfig`, or `MQTT_*` keys to validate. Ignored when
   * the app has resolved its own `MQTT_CONFIG`. Credentials are never written to the document.
   * @default the app's MQTT_CONFIG
   */
  config?: MqttConfig | MqttConfigInput;
  /** More servers, by connection name (e.g. a named connection's broker). @default {} */
  servers?: Record<string, AsyncApiServer>;
  /**
   * Reads the `${KEY}` values of filters and topics, for an app whose ConfigService was not
   * instantiated (preview mode). A key without a value becomes a channel parameter.
   * @default the app's ConfigService, else the environment
   */
  lookup?: (key: string) => unknown;
}

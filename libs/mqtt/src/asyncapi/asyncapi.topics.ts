import { parseFilter } from '../routing/topic.utils';

/** `${KEY}` in a `@Subscribe()` filter: a configuration value, read when the app starts. */
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_.]*)\}/g;

/** Reads a configuration key (ConfigService, or the environment); undefined when unset. */
export type ConfigLookup = (key: string) => unknown;

/** A channel address with its parameters, from a topic filter or a declared publish topic. */
export interface ChannelAddress {
  /** AsyncAPI address: `sensors/{deviceId}/temp`. */
  readonly address: string;
  /** Parameter name to its description, in level order. */
  readonly parameters: Record<string, { description: string }>;
  /** The shared subscription group of a `$share/<group>/…` filter. */
  readonly share?: string;
}

/**
 * The address of a subscribed filter: each named wildcard (`+deviceId`, `#path`) becomes a
 * parameter `{deviceId}` / `{path}`; an anonymous `+` becomes `{levelN}` (N counted from 1) and an
 * anonymous `#` `{rest}`. A `$share/<group>/` prefix is removed and returned as `share`. Each
 * `${KEY}` is replaced by the key's value from `lookup`, or becomes a parameter `{KEY}` when the
 * key has no value.
 * Throws the module's "Invalid MQTT topic filter" error for an invalid filter.
 */
export function filterAddress(filter: string, lookup?: ConfigLookup): ChannelAddress {
  const config = new Map<string, string>();
  const substituted = filter.replace(PLACEHOLDER, (_match, key: string) => {
    const value = lookup?.(key);
    if ((typeof value === 'string' && value !== '') || typeof value === 'number') {
      return String(value);
    }
    // Unresolved here (no value when the document is made): a parameter named after the key.
    const token = `__config_${key}__`;
    config.set(token, key);
    return token;
  });
  const parsed = parseFilter(substituted);
  const named = new Map(parsed.params.map((p) => [p.level, p.name]));
  const taken = new Set(parsed.params.map((p) => p.name));
  const parameters: Record<string, { description: string }> = {};
  const levels = parsed.matchFilter.split('/').map((level, index) => {
    if (level !== '+' && level !== '#') return level;
    let name = named.get(index) ?? (level === '+' ? `level${index + 1}` : 'rest');
    while (!named.has(index) && taken.has(name)) name = `${name}_`;
    taken.add(name);
    parameters[name] = {
      description:
        level === '+'
          ? `Topic level ${index + 1}, any value (MQTT wildcard "+${named.get(index) ?? ''}").`
          : `The remaining topic levels, "/" included; may be empty (MQTT wildcard ` +
            `"#${named.get(index) ?? ''}").`,
    };
    return `{${name}}`;
  });
  let address = levels.join('/');
  for (const [token, key] of config) {
    address = address.split(token).join(`{${key}}`);
    parameters[key] = {
      description: `The value of the configuration key ${key}, read when the app starts.`,
    };
  }
  return { address, parameters, share: parsed.share };
}

/**
 * The address of a topic declared with `@MqttPublishes()`: levels written `{name}` or `+name`
 * become parameters; other levels are kept as they are. `${KEY}` is resolved as in
 * {@link filterAddress}.
 */
export function topicAddress(topic: string, lookup?: ConfigLookup): ChannelAddress {
  const parameters: Record<string, { description: string }> = {};
  const resolved = topic.replace(PLACEHOLDER, (_match, key: string) => {
    const value = lookup?.(key);
    if ((typeof value === 'string' && value !== '') || typeof value === 'number') {
      return String(value);
    }
    parameters[key] = {
      description: `The value of the configuration key ${key}, read when the app starts.`,
    };
    return `{${key}}`;
  });
  const levels = resolved.split('/').map((level) => {
    const name =
      /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(level)?.[1] ?? /^\+([A-Za-z_]\w*)$/.exec(level)?.[1];
    if (name === undefined) return level;
    parameters[name] ??= { description: `Topic level "${name}".` };
    return `{${name}}`;
  });
  return { address: levels.join('/'), parameters };
}

/**
 * A channel id from its address, as AsyncAPI keys allow (`[A-Za-z0-9_.-]`): levels joined by
 * `.`, a parameter by its name: `sensors/{deviceId}/temp` is `sensors.deviceId.temp`.
 */
export function channelId(address: string): string {
  return address
    .split('/')
    .map((level) => level.replace(/^\{(.*)\}$/, '$1').replace(/[^A-Za-z0-9_-]/g, '_') || '_')
    .join('.');
}

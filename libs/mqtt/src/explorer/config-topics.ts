import { MqttSubscribeError } from '../errors/mqtt-subscribe.error';
import * as messages from '../mqtt.messages';

/** `${KEY}` in a filter: a value from the configuration, read when the module boots. */
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_.]*)\}/g;

/** Reads a configuration key; undefined when it has no value. */
export type ConfigLookup = (key: string) => unknown;

/** Whether a filter reads the configuration. */
export function readsConfig(filter: string): boolean {
  return filter.includes('${');
}

/**
 * Replaces each `${KEY}` of a filter with the key's value from ConfigService, so one app can
 * serve several sites or tenants (`@Subscribe('${SITE}/sensors/+id')`). A missing key is an
 * error naming the handler and the key.
 */
export function resolveConfigTopics(
  handler: string,
  filter: string,
  lookup: ConfigLookup | undefined,
): string {
  if (!readsConfig(filter)) return filter;
  if (!lookup) throw new MqttSubscribeError(messages.CONFIG_SERVICE_MISSING(handler, filter));
  return filter.replace(PLACEHOLDER, (_match, key: string) => {
    const value = lookup(key);
    const text = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
    if (text === '')
      throw new MqttSubscribeError(messages.MISSING_CONFIG_KEY(handler, filter, key));
    return text;
  });
}

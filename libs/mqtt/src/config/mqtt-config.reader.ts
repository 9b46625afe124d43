import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { MqttConfigError, type MqttConfigIssue } from '../errors/mqtt-config.error';
import { MQTT_KEY_PREFIX, MQTT_REMOVED_KEYS, type MqttConfigKey } from './mqtt-config.constants';
import { getMqttValueParser } from './mqtt-config.decorators';
import { MqttConfigDto } from './mqtt-config.dto';
import { MQTT_CONFIG_KEY_TABLE, MQTT_CONFIG_KEYS } from './mqtt-config.key-table';
import * as messages from './mqtt-config.messages';
import { suggestKey } from './mqtt-config.suggest';
import type { MqttValueParser } from './mqtt-config.values';

/** The `MQTT_*` keys that are set, in native form. */
export type MqttConfigValues = Partial<Record<MqttConfigKey, unknown>>;

const KEY_ORDER = new Map<string, number>(MQTT_CONFIG_KEYS.map((key, index) => [key, index]));

function parserOf(key: MqttConfigKey): MqttValueParser {
  const parser = getMqttValueParser(MqttConfigDto, key);
  if (!parser) throw new Error(`MqttConfigDto has no validator for ${key}.`);
  return parser;
}

function defaultOf(key: MqttConfigKey): unknown {
  const result = parserOf(key)(key, MQTT_CONFIG_KEY_TABLE[key].default);
  return result.ok ? result.value : undefined;
}

/**
 * Reads the `MQTT_*` keys of a record, each key alone, and then collects what the rules
 * across keys find: the issues and warnings, in the order they are found.
 */
export class MqttConfigReader {
  /** Every problem found so far, in the order found. */
  readonly issues: MqttConfigIssue[] = [];
  /** Every warning found so far, in the order found. */
  readonly warnings: string[] = [];
  /** The keys that are set and valid, in native form. */
  readonly values: MqttConfigValues = {};
  /** The keys whose value is invalid; they take no part in rules across keys. */
  private readonly failed = new Set<string>();

  /** Reads `record`, which may be all of `process.env`: other keys are ignored. */
  constructor(record: Record<string, unknown>) {
    const plain = this.pickKeys(record);
    this.validate(plain);
    this.parse(plain);
  }

  /** Reports a problem with `key`. */
  issue(key: MqttConfigKey, message: string): void {
    this.issues.push({ key, message });
  }

  /** Reports something allowed but probably wrong. */
  warn(message: string): void {
    this.warnings.push(message);
  }

  /** Whether `key` was set to an invalid value (already reported, so a rule skips it). */
  bad(key: MqttConfigKey): boolean {
    return this.failed.has(key);
  }

  /** The value of `key` when set and valid, else `undefined`. */
  get<T>(key: MqttConfigKey): T | undefined {
    return this.values[key] as T | undefined;
  }

  /** The value of `key` when set and valid, else its default. */
  valueOf<T>(key: MqttConfigKey): T {
    return (this.values[key] ?? defaultOf(key)) as T;
  }

  /** Whether `key` is set to something other than its default. */
  changed(key: MqttConfigKey): boolean {
    return this.values[key] !== undefined && this.values[key] !== defaultOf(key);
  }

  /**
   * Throws when a problem was found.
   *
   * @throws MqttConfigError listing every problem in key order, and the warnings.
   */
  throwIfIssues(): void {
    if (this.issues.length === 0) return;
    const order = (i: MqttConfigIssue) => KEY_ORDER.get(i.key) ?? KEY_ORDER.size;
    // Array.prototype.sort is stable: issues of one key keep their order.
    throw new MqttConfigError(
      [...this.issues].sort((a, b) => order(a) - order(b)),
      this.warnings,
    );
  }

  /** Keeps the own known `MQTT_*` keys; warns of removed and unknown ones. */
  private pickKeys(record: Record<string, unknown>): Record<string, unknown> {
    const plain: Record<string, unknown> = {};
    for (const key of Object.keys(record)) {
      if (!key.startsWith(MQTT_KEY_PREFIX)) continue;
      if (KEY_ORDER.has(key)) plain[key] = record[key];
      else if (key in MQTT_REMOVED_KEYS) {
        this.warn(
          messages.removedKey(key, MQTT_REMOVED_KEYS[key as keyof typeof MQTT_REMOVED_KEYS]),
        );
      } else this.warn(messages.unknownKey(key, suggestKey(key, MQTT_CONFIG_KEYS)));
    }
    return plain;
  }

  /** Each key alone, the @nestjs/config way. */
  private validate(plain: Record<string, unknown>): void {
    const dto = plainToInstance(MqttConfigDto, plain);
    // Only messages are kept (never the values: a password must not reach a log). The options
    // have the shape of the payload validation's: class-validator's hot paths then see one
    // shape of options and of ValidationError, and validated payloads stay ~5% cheaper.
    for (const error of validateSync(dto, { forbidUnknownValues: false })) {
      this.failed.add(error.property);
      for (const message of Object.values(error.constraints ?? {})) {
        this.issue(error.property as MqttConfigKey, message);
      }
    }
  }

  /** Turns every valid key into its native form. */
  private parse(plain: Record<string, unknown>): void {
    for (const key of MQTT_CONFIG_KEYS) {
      if (this.failed.has(key)) continue;
      const result = parserOf(key)(key, plain[key]);
      if (!result.ok) {
        this.failed.add(key);
        this.issue(key, result.message);
      } else if (result.value !== undefined) {
        this.values[key] = result.value;
      }
    }
  }
}

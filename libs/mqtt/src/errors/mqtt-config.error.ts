import {
  configErrorFooter,
  configErrorHeader,
  configErrorWarningsHeading,
} from '../config/mqtt-config.messages';

/** One problem of an MQTT configuration: the key at fault and what is wrong with it. */
export interface MqttConfigIssue {
  /** The `MQTT_*` key the problem is reported on (for rules across keys, the first one named). */
  readonly key: string;
  /** The full sentence: the key, the rule broken and the value quoted (never a secret). */
  readonly message: string;
}

/**
 * Thrown when the `MQTT_*` configuration is invalid. It lists every problem at once,
 * one per line, so that one restart is enough to see all of them; warnings found on
 * the way (such as misspelt keys) are listed too, since they often explain an error.
 */
export class MqttConfigError extends Error {
  override readonly name = 'MqttConfigError';
  /** Every problem found, in key order. */
  readonly issues: ReadonlyArray<MqttConfigIssue>;
  /** Warnings found while validating (also in the message). */
  readonly warnings: ReadonlyArray<string>;

  constructor(issues: ReadonlyArray<MqttConfigIssue>, warnings: ReadonlyArray<string> = []) {
    const lines = [configErrorHeader(issues.length), ...issues.map((i) => `  - ${i.message}`)];
    if (warnings.length > 0) {
      lines.push(configErrorWarningsHeading(), ...warnings.map((w) => `  - ${w}`));
    }
    lines.push(configErrorFooter());
    super(lines.join('\n'));
    this.issues = Object.freeze([...issues]);
    this.warnings = Object.freeze([...warnings]);
  }
}

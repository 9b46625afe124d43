import type { MqttConfigIssue } from '../errors/mqtt-config.error';
import type { MqttConfig } from '../interfaces/mqtt-config.interface';

/** Whether a value is PEM text (or any multi-line text) rather than a file path. */
export function looksLikePem(value: string): boolean {
  return value.includes('-----BEGIN') || value.includes('\n');
}

/**
 * Keeps the password out of `JSON.stringify`, `console.log` and spreads of the config (it is
 * injectable as MQTT_CONFIG): a non-enumerable property, still readable as `config.password`.
 */
export function hidePassword(config: MqttConfig): MqttConfig {
  if (config.password !== undefined) {
    Object.defineProperty(config, 'password', { value: config.password, enumerable: false });
  }
  return config;
}

/**
 * Defence in depth: should the password turn up inside another key's value (and so
 * in a message), it is replaced by *** in `issues` and `warnings` (in place). Short
 * passwords are left alone, since they would match ordinary words.
 */
export function hideSecret(secret: unknown, issues: MqttConfigIssue[], warnings: string[]): void {
  if (typeof secret !== 'string' || secret.length < 4) return;
  const forms = [secret, JSON.stringify(secret).slice(1, -1)];
  const hideWhole = (text: string) => forms.reduce((t, form) => t.split(form).join('***'), text);
  // A long value is quoted cut short ("…"), which may cut the secret too: hide its prefixes there.
  const hide = (text: string) => {
    let out = hideWhole(text);
    for (const form of forms) {
      for (let k = form.length - 1; k >= 1; k--) {
        out = out.split(`${form.slice(0, k)}…`).join('***…');
      }
    }
    return out;
  };
  issues.forEach((i, n) => (issues[n] = { key: i.key, message: hide(i.message) }));
  warnings.forEach((w, n) => (warnings[n] = hide(w)));
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MQTT_CONFIG_KEY_TABLE, MQTT_CONFIG_KEYS } from './mqtt-config.constants';

/** The README's key table is the user's reference: it must list every key the code reads. */
describe('README configuration table', () => {
  const readme = readFileSync(join(__dirname, '../../../../README.md'), 'utf8');
  const rows = new Map(
    readme
      .split('\n')
      .filter((line) => line.startsWith('| `MQTT_'))
      .map((line) => [line.slice(3, line.indexOf('`', 3)), line] as const),
  );

  it.each(MQTT_CONFIG_KEYS.map((k) => [k]))('has a row for %s with its default', (key) => {
    const row = rows.get(key);
    expect(row).toBeDefined();
    const def = (MQTT_CONFIG_KEY_TABLE as Record<string, { default?: string | number | boolean }>)[
      key
    ].default;
    if (def !== undefined && def !== '') expect(row).toContain(String(def));
  });

  it('lists no key the code does not know', () => {
    expect([...rows.keys()].filter((k) => !MQTT_CONFIG_KEYS.includes(k as never))).toEqual([]);
  });
});

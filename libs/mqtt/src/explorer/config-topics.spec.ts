import { MqttSubscribeError } from '../errors/mqtt-subscribe.error';
import { readsConfig, resolveConfigTopics } from './config-topics';

describe('resolveConfigTopics', () => {
  const config: Record<string, string> = { SITE: 'plant-7', 'tenant.root': 'acme', EMPTY: '' };
  const lookup = (key: string) => config[key];

  it('replaces every ${KEY} with its configured value', () => {
    expect(resolveConfigTopics('H.m', '${SITE}/sensors/+id/temp', lookup)).toBe(
      'plant-7/sensors/+id/temp',
    );
    expect(resolveConfigTopics('H.m', '${tenant.root}/${SITE}/#', lookup)).toBe('acme/plant-7/#');
  });

  it('leaves filters without placeholders alone, even without a lookup', () => {
    expect(readsConfig('a/+/b')).toBe(false);
    expect(resolveConfigTopics('H.m', 'a/+/b', undefined)).toBe('a/+/b');
  });

  it('names the handler and the key when the key is missing or empty', () => {
    for (const key of ['NOPE', 'EMPTY']) {
      const call = () => resolveConfigTopics('Telemetry.onTemp', `\${${key}}/t`, lookup);
      expect(call).toThrow(MqttSubscribeError);
      expect(call).toThrow(`Telemetry.onTemp subscribes to "\${${key}}/t"`);
      expect(call).toThrow(`Set ${key}`);
    }
  });

  it('says to import ConfigModule when there is no ConfigService', () => {
    expect(() => resolveConfigTopics('H.m', '${SITE}/t', undefined)).toThrow(
      'Import ConfigModule.forRoot()',
    );
  });
});

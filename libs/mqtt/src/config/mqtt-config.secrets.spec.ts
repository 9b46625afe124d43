import { inspect } from 'node:util';
import { MqttConfigError } from '../errors/mqtt-config.error';
import { parseMqttConfig } from './mqtt-config.parse';

describe('the password in error messages', () => {
  const password = 's3cr3t-PASSWORD-xyz';

  function messageOf(input: Record<string, unknown>): string {
    try {
      parseMqttConfig(input);
    } catch (error) {
      expect(error).toBeInstanceOf(MqttConfigError);
      return (error as MqttConfigError).message;
    }
    throw new Error('expected a configuration error');
  }

  it.each([10, 62, 70, 75])(
    'hides every prefix of it when a long quoted value is cut inside it (offset %i)',
    (offset) => {
      const message = messageOf({
        MQTT_USERNAME: 'u',
        MQTT_PASSWORD: password,
        MQTT_DEAD_LETTER_TOPIC: `${'x'.repeat(offset)}${password}/#`,
      });
      expect(message).toContain('MQTT_DEAD_LETTER_TOPIC');
      for (let k = 3; k <= password.length; k++) {
        expect(message).not.toContain(password.slice(0, k));
      }
    },
  );
});

describe('PEM text given where a TLS path belongs', () => {
  const pem =
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

  it.each(['MQTT_TLS_CA_CERTS', 'MQTT_TLS_KEYFILE'])(
    'is refused for %s without echoing it',
    (key) => {
      let message = '';
      try {
        parseMqttConfig({
          MQTT_TLS_ENABLED: 'true',
          MQTT_TLS_CERTFILE: key === 'MQTT_TLS_KEYFILE' ? __filename : undefined,
          [key]: pem,
        });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(`${key} looks like PEM content`);
      expect(message).not.toContain('MIIEvQ');
      expect(message).not.toContain('BEGIN PRIVATE KEY');
    },
  );
});

describe('the parsed config', () => {
  it('keeps the password readable but out of JSON, inspection and spreads', () => {
    const { config } = parseMqttConfig({ MQTT_USERNAME: 'u', MQTT_PASSWORD: 'p4ssw0rd-xyz' });
    expect(config.password).toBe('p4ssw0rd-xyz');
    expect(JSON.stringify(config)).not.toContain('p4ssw0rd-xyz');
    expect(inspect(config)).not.toContain('p4ssw0rd-xyz');
    expect({ ...config }).not.toHaveProperty('password');
  });
});

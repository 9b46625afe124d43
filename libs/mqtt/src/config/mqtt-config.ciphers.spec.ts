import { MqttConfigError } from '../errors/mqtt-config.error';
import { parseMqttConfig } from './mqtt-config.parse';

describe('MQTT_TLS_CIPHERS', () => {
  const tls = { MQTT_TLS_ENABLED: 'true', MQTT_BROKER_PORT: '8883' };

  it('accepts a list OpenSSL knows', () => {
    const { config } = parseMqttConfig({ ...tls, MQTT_TLS_CIPHERS: 'ECDHE-RSA-AES128-GCM-SHA256' });
    expect(config.tls.ciphers).toBe('ECDHE-RSA-AES128-GCM-SHA256');
  });

  it('refuses a list naming no known cipher, at startup and naming the key', () => {
    let error: unknown;
    try {
      parseMqttConfig({ ...tls, MQTT_TLS_CIPHERS: 'NO-SUCH-CIPHER' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MqttConfigError);
    const issues = (error as MqttConfigError).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0].key).toBe('MQTT_TLS_CIPHERS');
    expect(issues[0].message).toContain('"NO-SUCH-CIPHER"');
  });
});

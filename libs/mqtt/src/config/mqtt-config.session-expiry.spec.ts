import { MqttConfigError } from '../errors/mqtt-config.error';
import { toMqttConnectOptions } from './mqtt-client-options';
import { parseMqttConfig } from './mqtt-config.parse';

const parse = (input: Record<string, unknown>) =>
  parseMqttConfig({ MQTT_CLIENT_ID: 'app-1', ...input }, { checkFiles: false });
const V5 = { MQTT_PROTOCOL_VERSION: 'MQTTv5' };

describe('MQTT_SESSION_EXPIRY', () => {
  it('defaults to 0 with a clean session, and sends no Session Expiry Interval', () => {
    const { config, warnings } = parse(V5);
    expect(config.sessionExpiry).toBe(0);
    expect(warnings).toEqual([]);
    expect(toMqttConnectOptions(config).options.properties).toBeUndefined();
  });

  it('defaults to 4294967295 (never) with MQTT_CLEAN_SESSION=false, so the session outlives the connection', () => {
    const { config, warnings } = parse({ ...V5, MQTT_CLEAN_SESSION: 'false' });
    expect(config.sessionExpiry).toBe(4294967295);
    expect(warnings).toEqual([]);
    expect(toMqttConnectOptions(config).options.properties).toEqual({
      sessionExpiryInterval: 4294967295,
    });
  });

  it.each([
    ['3600', 3600],
    [' 60 ', 60],
    [120, 120],
    ['4294967295', 4294967295],
  ])('takes %j as %d seconds', (value, seconds) => {
    const { config } = parse({ ...V5, MQTT_CLEAN_SESSION: false, MQTT_SESSION_EXPIRY: value });
    expect(config.sessionExpiry).toBe(seconds);
    expect(toMqttConnectOptions(config).options.properties).toEqual({
      sessionExpiryInterval: seconds,
    });
  });

  it.each([['-1'], ['4294967296'], ['1.5'], ['soon'], [true]])('refuses %j', (value) => {
    let error: unknown;
    try {
      parse({ ...V5, MQTT_SESSION_EXPIRY: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MqttConfigError);
    expect((error as MqttConfigError).message).toContain(
      'MQTT_SESSION_EXPIRY must be a whole number from 0 to 4294967295',
    );
  });

  it('treats a blank value as unset', () => {
    expect(parse({ ...V5, MQTT_CLEAN_SESSION: false, MQTT_SESSION_EXPIRY: ' ' }).config).toEqual(
      expect.objectContaining({ sessionExpiry: 4294967295 }),
    );
  });

  it('is ignored, with a warning, on MQTT 3.x (no property is sent)', () => {
    const { config, warnings } = parse({ MQTT_CLEAN_SESSION: false, MQTT_SESSION_EXPIRY: 60 });
    expect(config.sessionExpiry).toBe(0);
    expect(warnings).toEqual([expect.stringContaining('is not MQTTv5, so it is ignored')]);
    expect(toMqttConnectOptions(config).options.properties).toBeUndefined();
  });

  it('warns when a clean start would discard the kept session', () => {
    const { config, warnings } = parse({ ...V5, MQTT_SESSION_EXPIRY: 60 });
    expect(config.sessionExpiry).toBe(60);
    expect(warnings).toEqual([expect.stringContaining('every connect starts clean')]);
  });

  it('warns when a persistent session would die with its connection', () => {
    const { config, warnings } = parse({
      ...V5,
      MQTT_CLEAN_SESSION: false,
      MQTT_SESSION_EXPIRY: 0,
    });
    expect(config.sessionExpiry).toBe(0);
    expect(warnings).toEqual([expect.stringContaining('a reconnect finds nothing to resume')]);
    expect(toMqttConnectOptions(config).options.properties).toBeUndefined();
  });
});

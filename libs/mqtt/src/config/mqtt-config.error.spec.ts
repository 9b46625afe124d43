import { MqttConfigError } from '../errors/mqtt-config.error';

describe('MqttConfigError', () => {
  it('lists every issue, one per line, between a header and what to do', () => {
    const error = new MqttConfigError([
      { key: 'MQTT_A', message: 'MQTT_A is wrong.' },
      { key: 'MQTT_B', message: 'MQTT_B is wrong too.' },
    ]);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('MqttConfigError');
    expect(error.message).toBe(
      [
        'Invalid MQTT configuration: 2 problems.',
        '  - MQTT_A is wrong.',
        '  - MQTT_B is wrong too.',
        'Fix these keys in your environment, .env file or MqttModule options.',
      ].join('\n'),
    );
    expect(String(error)).toMatch(/^MqttConfigError: Invalid MQTT configuration: 2 problems\./);
    expect(error.warnings).toEqual([]);
  });

  it('adds the warnings, which often explain the problem', () => {
    const error = new MqttConfigError(
      [{ key: 'MQTT_A', message: 'MQTT_A is wrong.' }],
      ['MQTT_X is not a known key.'],
    );
    expect(error.message).toBe(
      [
        'Invalid MQTT configuration: 1 problem.',
        '  - MQTT_A is wrong.',
        'Warnings:',
        '  - MQTT_X is not a known key.',
        'Fix these keys in your environment, .env file or MqttModule options.',
      ].join('\n'),
    );
  });

  it('keeps frozen copies of its lists', () => {
    const issues = [{ key: 'MQTT_A', message: 'a' }];
    const error = new MqttConfigError(issues, ['w']);
    issues.push({ key: 'MQTT_B', message: 'b' });
    expect(error.issues).toHaveLength(1);
    expect(Object.isFrozen(error.issues)).toBe(true);
    expect(Object.isFrozen(error.warnings)).toBe(true);
  });
});

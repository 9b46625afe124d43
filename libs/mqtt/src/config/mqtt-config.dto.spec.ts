import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';
import { MQTT_CONFIG_KEY_TABLE, MQTT_CONFIG_KEYS } from './mqtt-config.constants';
import { getMqttValueParser, IsEnvInt } from './mqtt-config.decorators';
import { MqttConfigDto } from './mqtt-config.dto';

/** The @nestjs/config recipe: plainToInstance + validateSync, messages by key. */
function validate(record: Record<string, unknown>): Record<string, string[]> {
  const errors = validateSync(plainToInstance(MqttConfigDto, record));
  return Object.fromEntries(errors.map((e) => [e.property, Object.values(e.constraints ?? {})]));
}

describe('MqttConfigDto', () => {
  it('has a validator, and so a parser, for every key of the table', () => {
    for (const key of MQTT_CONFIG_KEYS) {
      expect(getMqttValueParser(MqttConfigDto, key)).toBeInstanceOf(Function);
    }
    expect(getMqttValueParser(MqttConfigDto, 'MQTT_REFRESH_TIME')).toBeUndefined();
  });

  it('lists in its table every key with a description', () => {
    expect(MQTT_CONFIG_KEYS).toHaveLength(36);
    for (const key of MQTT_CONFIG_KEYS) {
      expect(MQTT_CONFIG_KEY_TABLE[key].description.length).toBeGreaterThan(5);
    }
    expect(Object.isFrozen(MQTT_CONFIG_KEY_TABLE)).toBe(true);
    expect(Object.isFrozen(MQTT_CONFIG_KEY_TABLE.MQTT_BROKER_PORT)).toBe(true);
  });

  it('accepts every table default', () => {
    const defaults = Object.fromEntries(
      MQTT_CONFIG_KEYS.map((key) => [key, MQTT_CONFIG_KEY_TABLE[key].default]),
    );
    expect(validate(defaults)).toEqual({});
  });

  it('accepts an empty record and blank values', () => {
    expect(validate({})).toEqual({});
    expect(validate(Object.fromEntries(MQTT_CONFIG_KEYS.map((key) => [key, '  '])))).toEqual({});
  });

  it('accepts env strings and native values without converting them', () => {
    const dto = plainToInstance(MqttConfigDto, {
      MQTT_TLS_ENABLED: 'false',
      MQTT_CLEAN_SESSION: false,
      MQTT_BROKER_PORT: '8883',
      MQTT_KEEPALIVE: 30,
      MQTT_LAST_WILL_MESSAGE: Buffer.from('x'),
    });
    expect(validateSync(dto)).toEqual([]);
    expect(dto.MQTT_TLS_ENABLED).toBe('false');
    expect(dto.MQTT_BROKER_PORT).toBe('8883');
    expect(Buffer.isBuffer(dto.MQTT_LAST_WILL_MESSAGE)).toBe(true);
    expect(
      getMqttValueParser(MqttConfigDto, 'MQTT_TLS_ENABLED')?.('MQTT_TLS_ENABLED', 'false'),
    ).toEqual({ ok: true, value: false });
  });

  it('reports one message per bad key, in its own words', () => {
    expect(
      validate({ MQTT_BROKER_PORT: 'abc', MQTT_TLS_ENABLED: 'maybe', MQTT_TRANSPORT: 'ws' }),
    ).toEqual({
      MQTT_BROKER_PORT: ['MQTT_BROKER_PORT must be a whole number from 1 to 65535, got "abc".'],
      MQTT_TLS_ENABLED: [
        'MQTT_TLS_ENABLED must be true or false (1/0 and yes/no are accepted too), got "maybe".',
      ],
      MQTT_TRANSPORT: ['MQTT_TRANSPORT must be "tcp" or "websockets", got "ws".'],
    });
  });

  it('never puts the password in a message', () => {
    const errors = validateSync(plainToInstance(MqttConfigDto, { MQTT_PASSWORD: 31415926 }), {
      validationError: { target: false, value: false },
    });
    expect(JSON.stringify(errors)).not.toContain('31415926');
    expect(errors[0].constraints).toEqual({
      isEnvString: 'MQTT_PASSWORD must be a string, got a number (value not shown).',
    });
  });

  it('lets a subclass add keys without changing the parent', () => {
    class Extended extends MqttConfigDto {
      @IsEnvInt(1, 9)
      MQTT_EXTRA?: string;
    }
    expect(getMqttValueParser(Extended, 'MQTT_EXTRA')).toBeInstanceOf(Function);
    expect(getMqttValueParser(Extended, 'MQTT_BROKER_PORT')).toBeInstanceOf(Function);
    expect(getMqttValueParser(MqttConfigDto, 'MQTT_EXTRA')).toBeUndefined();
    const errors = validateSync(plainToInstance(Extended, { MQTT_EXTRA: '10' }));
    expect(errors[0].constraints).toEqual({
      isEnvInt: 'MQTT_EXTRA must be a whole number from 1 to 9, got "10".',
    });
  });

  it('shares one constraint class per decorator name among its properties', () => {
    // Distinct classes per property widen class-validator's hot call for every payload DTO.
    const metadatas = getMetadataStorage().getTargetValidationMetadatas(
      MqttConfigDto,
      '',
      true,
      false,
    );
    const classes = new Map<string, Set<unknown>>();
    for (const m of metadatas) {
      classes.set(m.name ?? '', (classes.get(m.name ?? '') ?? new Set()).add(m.constraintCls));
    }
    expect(metadatas.length).toBeGreaterThanOrEqual(MQTT_CONFIG_KEYS.length);
    expect(classes.get('isEnvInt')?.size).toBe(1);
    expect([...classes.values()].every((set) => set.size === 1)).toBe(true);
    expect(classes.size).toBeLessThan(16);
  });
});

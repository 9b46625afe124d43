import { plainToInstance } from 'class-transformer';
import {
  getFromContainer,
  getMetadataStorage,
  IsInt,
  useContainer,
  Validate,
  validateSync,
  ValidatorConstraint,
} from 'class-validator';
import { hasInstanceGetter, ownConstraintInstance } from './class-validator.internals';
import { MqttConfigReader } from './mqtt-config.reader';

/** A container that records which classes class-validator asks it for, then defers. */
function recordingContainer(): { asked: Set<unknown>; get<T>(cls: new () => T): T } {
  const built = new Map<unknown, unknown>();
  const asked = new Set<unknown>();
  return {
    asked,
    get<T>(cls: new () => T): T {
      asked.add(cls);
      if (!built.has(cls)) built.set(cls, new cls());
      return built.get(cls) as T;
    },
  };
}

class Reading {
  @IsInt()
  seq!: number;
}

describe('class-validator internals (contract: fails when an upgrade changes them)', () => {
  afterEach(() => useContainer(null as unknown as Parameters<typeof useContainer>[0]));

  it('ConstraintMetadata.instance is still a prototype getter that asks the container', () => {
    @ValidatorConstraint({ name: 'contractProbe' })
    class Probe {
      validate(): boolean {
        return true;
      }
    }
    const [metadata] = getMetadataStorage().getTargetValidatorConstraints(Probe);
    expect(metadata).toBeDefined();
    expect(hasInstanceGetter(metadata)).toBe(true);
    const container = recordingContainer();
    useContainer(container);
    expect(metadata.instance).toBeInstanceOf(Probe);
    expect(container.asked.has(Probe)).toBe(true);
  });

  it('an own instance runs the rule, and the container is never asked for its class', () => {
    let calls = 0;
    @ValidatorConstraint({ name: 'ownProbe' })
    class Own {
      validate(value: unknown): boolean {
        calls++;
        return value === 'ok';
      }
    }
    expect(ownConstraintInstance(Own)).toBe(true);
    const [metadata] = getMetadataStorage().getTargetValidatorConstraints(Own);
    const instance = metadata.instance as Own;
    expect(instance).toBeInstanceOf(Own);
    expect(metadata.instance).toBe(instance);
    expect(instance).not.toBe(getFromContainer(Own));

    class Dto {
      @Validate(Own)
      value!: string;
    }
    const container = recordingContainer();
    useContainer(container);
    expect(validateSync(plainToInstance(Dto, { value: 'ok' }))).toEqual([]);
    expect(validateSync(plainToInstance(Dto, { value: 'no' }))).toHaveLength(1);
    expect(calls).toBe(2);
    expect(metadata.instance).toBe(instance);
    expect(container.asked.has(Own)).toBe(false);
  });

  it('returns false and changes nothing for a class class-validator does not know', () => {
    class Unknown {}
    expect(ownConstraintInstance(Unknown)).toBe(false);
    expect(getMetadataStorage().getTargetValidatorConstraints(Unknown)).toHaveLength(0);
  });

  it('validating the MQTT_* keys leaves no module constraint in the container', () => {
    const container = recordingContainer();
    useContainer(container);
    const reader = new MqttConfigReader({ MQTT_BROKER_URL: 'localhost', MQTT_KEEPALIVE: 'x' });
    expect(reader.issues.map((i) => i.key)).toEqual(['MQTT_KEEPALIVE']);
    // Only a payload DTO's own rules reach the container; none of the module's.
    expect(validateSync(plainToInstance(Reading, { seq: 1 }))).toEqual([]);
    const names = [...container.asked].map((c) => (c as { name: string }).name);
    expect(names.length).toBeGreaterThan(0);
    expect(names).not.toContain('MqttValueConstraint');
  });
});

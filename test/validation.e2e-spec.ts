/**
 * One payload validation, configurable like Nest's ValidationPipe (the module option
 * `validation`), and never done twice: with a pipe on the payload, the module only parses JSON.
 */
import { Injectable, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { IsNumber, IsString, Max } from 'class-validator';
import { Payload, Subscribe, type MqttModuleOptions } from 'nestjs-mqtt';
import { startAedes, startMqttApp, until, type AedesBroker, type MqttTestApp } from './support';

let validations = 0;

class ReadingDto {
  @IsString()
  device!: string;

  @IsNumber()
  @Max(100, { groups: ['strict'] })
  celsius!: number;

  /** Counts how often class-validator looks at an instance (its getter runs per validation). */
  @IsString({ always: false, each: false })
  get checked(): string {
    validations++;
    return 'yes';
  }
}

@Injectable()
class Readings {
  readonly received: unknown[] = [];
  @Subscribe('v/reading')
  onReading(@Payload() reading: ReadingDto): void {
    this.received.push(reading);
  }
}

describe('payload validation', () => {
  let broker: AedesBroker;
  let current: MqttTestApp | undefined;

  beforeAll(async () => {
    broker = await startAedes();
  });
  afterEach(async () => {
    await current?.app.close();
    current = undefined;
    validations = 0;
  });
  afterAll(() => broker.stop());

  async function run(options: MqttModuleOptions, payloads: object[], pipe?: ValidationPipe) {
    current = await startMqttApp({
      broker,
      options,
      providers: [Readings, ...(pipe ? [{ provide: APP_PIPE, useValue: pipe }] : [])],
    });
    const { mqtt, app, logger } = current;
    for (const p of payloads) await mqtt.publish('v/reading', p, { qos: 1 });
    const readings = app.get(Readings);
    await until(
      'every payload settled',
      () => readings.received.length + logger.mqtt('error').length >= payloads.length,
    );
    return { received: readings.received, errors: logger.mqtt('error') };
  }

  it('by default: a class instance, unknown fields kept, invalid payloads fail with the reason', async () => {
    const { received, errors } = await run({}, [
      { device: 'd1', celsius: 20, extra: true },
      { device: 'd2', celsius: 'hot' },
    ]);
    expect(received).toHaveLength(1);
    expect(received[0]).toBeInstanceOf(ReadingDto);
    expect(received[0]).toMatchObject({ device: 'd1', celsius: 20, extra: true });
    expect(errors[0]).toContain('invalid payload: ');
    expect(errors[0]).toContain('celsius must be a number');
  });

  it('validation: { whitelist: true } strips unknown fields; forbidNonWhitelisted rejects them', async () => {
    const stripped = await run({ validation: { whitelist: true } }, [
      { device: 'd1', celsius: 20, extra: true },
    ]);
    expect(stripped.received[0]).not.toHaveProperty('extra');
    await current!.app.close();
    current = undefined;

    const strict = await run({ validation: { whitelist: true, forbidNonWhitelisted: true } }, [
      { device: 'd1', celsius: 20, extra: true },
    ]);
    expect(strict.received).toEqual([]);
    expect(strict.errors[0]).toContain('property extra should not exist');
  });

  it('validation: { transform: false } hands over the validated plain object; groups apply', async () => {
    const plain = await run({ validation: { transform: false, groups: ['strict'] } }, [
      { device: 'd1', celsius: 20 },
      { device: 'd2', celsius: 120 },
    ]);
    expect(plain.received).toHaveLength(1);
    expect(plain.received[0]).not.toBeInstanceOf(ReadingDto);
    expect(plain.received[0]).toMatchObject({ device: 'd1', celsius: 20 });
    expect(plain.errors[0]).toContain('celsius must not be greater than 100');
  });

  it('validation: false only parses JSON', async () => {
    const { received } = await run({ validation: false }, [{ device: 'd1', celsius: 'hot' }]);
    expect(received).toEqual([{ device: 'd1', celsius: 'hot' }]);
  });

  it('with a global ValidationPipe the payload is validated once, by the pipe, with its options', async () => {
    const { received, errors } = await run(
      {},
      [
        { device: 'd1', celsius: 20 },
        { device: 'd2', celsius: 20, extra: 1 },
      ],
      new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
    );
    expect(received).toHaveLength(1);
    expect(received[0]).toBeInstanceOf(ReadingDto);
    expect(errors[0]).toContain('property extra should not exist');
    // Two payloads, one validation each: the pipe's.
    expect(validations).toBe(2);
  });

  it('warns at bootstrap when a handler has no decorator metadata (tsx, esbuild), and says what to do', async () => {
    @Injectable()
    class Untyped {
      readonly received: unknown[] = [];
      @Subscribe('v/untyped')
      onReading(@Payload() reading: ReadingDto): void {
        this.received.push(reading);
      }
    }
    // What a compiler without "emitDecoratorMetadata" leaves: no parameter types.
    Reflect.deleteMetadata('design:paramtypes', Untyped.prototype, 'onReading');
    current = await startMqttApp({ broker, providers: [Readings, Untyped] });
    const warnings = current.logger.mqtt('warn').filter((w) => w.includes('decorator metadata'));
    // Once, for the handler without metadata only.
    expect(warnings).toEqual([expect.stringContaining('Untyped.onReading has no decorator')]);
    expect(warnings[0]).toContain('not validated');
    expect(warnings[0]).toContain('emitDecoratorMetadata');
    expect(warnings[0]).toContain('expectedType: SomeDto');
  });
});

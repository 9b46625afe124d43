import { IsNumber, IsString } from 'class-validator';
import { MqttPayloadError } from '../errors/mqtt-payload.error';
import { payloadDecoder } from './payload-decoder';

class Reading {
  @IsString()
  device!: string;

  @IsNumber()
  celsius!: number;
}

const bytes = (text: string) => Buffer.from(text, 'utf8');
const hostile =
  '{"device":"d","celsius":1,"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}';

describe('payloadDecoder', () => {
  afterEach(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('Buffer and string parameters get the bytes and the text as they are', () => {
    expect(payloadDecoder(Buffer, {}, false)(bytes('x'))).toEqual(bytes('x'));
    expect(payloadDecoder(String, {}, false)(bytes('{"a":1}'))).toBe('{"a":1}');
  });

  it('a class: JSON turned into the class and validated', () => {
    const value = payloadDecoder(Reading, {}, false)(bytes('{"device":"d","celsius":1}'));
    expect(value).toBeInstanceOf(Reading);
    expect(() =>
      payloadDecoder(Reading, {}, false)(bytes('{"device":"d","celsius":"hot"}')),
    ).toThrow('invalid payload: celsius: celsius must be a number');
  });

  it('says what is wrong with a payload that is not a JSON object', () => {
    const decode = payloadDecoder(Reading, {}, false);
    expect(() => decode(bytes('not json'))).toThrow(MqttPayloadError);
    expect(() => decode(bytes('not json'))).toThrow('payload is not valid JSON for Reading');
    expect(() => decode(bytes('[1]'))).toThrow('expected a JSON object, got an array');
    expect(() => decode(bytes('null'))).toThrow('expected a JSON object, got null');
  });

  it('__proto__ and constructor keys never reach a prototype (class path)', () => {
    const value = payloadDecoder(Reading, {}, false)(bytes(hostile)) as Reading;
    expect(Object.getPrototypeOf(value)).toBe(Reading.prototype);
    expect(value.constructor).toBe(Reading);
    expect((value as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('__proto__ and constructor keys are dropped when the object is handed on as parsed', () => {
    for (const decode of [
      payloadDecoder(Reading, false, false),
      payloadDecoder(Reading, {}, true), // a pipe validates
    ]) {
      const value = decode(bytes(hostile)) as Record<string, unknown>;
      expect(Object.keys(value)).toEqual(['device', 'celsius']);
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.assign({}, value)).toEqual({ device: 'd', celsius: 1 });
    }
  });

  it('whitelist, forbidNonWhitelisted and transform: false', () => {
    const extra = bytes('{"device":"d","celsius":1,"extra":true}');
    expect(payloadDecoder(Reading, { whitelist: true }, false)(extra)).not.toHaveProperty('extra');
    expect(() =>
      payloadDecoder(Reading, { whitelist: true, forbidNonWhitelisted: true }, false)(extra),
    ).toThrow('property extra should not exist');
    const plain = payloadDecoder(Reading, { transform: false }, false)(extra);
    expect(plain).not.toBeInstanceOf(Reading);
    expect(plain).toMatchObject({ device: 'd', celsius: 1 });
  });
});

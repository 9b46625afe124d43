import { describeValue } from './mqtt-config.messages';
import { parseBrokerAddress } from './mqtt-config.broker-url';
import { isUnset, text, willPayload } from './mqtt-config.values';

describe('isUnset', () => {
  it.each([undefined, null, '', ' ', '\t\n'])('%p is unset', (value) => {
    expect(isUnset(value)).toBe(true);
  });
  it.each([0, false, 'x', ' x ', Buffer.alloc(0)])('%p is set', (value) => {
    expect(isUnset(value)).toBe(false);
  });
});

describe('parseBrokerAddress', () => {
  it.each([
    ['localhost', { host: 'localhost' }],
    ['::1', { host: '::1' }],
    ['[::1]', { host: '::1' }],
    ['mqtt://b', { scheme: 'mqtt', host: 'b' }],
    ['mqtt://b:1', { scheme: 'mqtt', host: 'b', port: 1 }],
    ['mqtts://b:65535/', { scheme: 'mqtts', host: 'b', port: 65535 }],
    ['ws://b/p', { scheme: 'ws', host: 'b', path: '/p' }],
    [
      'WSS://[2001:db8::1]:8443/a/b',
      { scheme: 'wss', host: '2001:db8::1', port: 8443, path: '/a/b' },
    ],
  ])('reads %p', (raw, expected) => {
    const result = parseBrokerAddress(raw);
    expect(result.ok).toBe(true);
    expect(result.ok && result.value).toEqual(expect.objectContaining(expected));
    if (result.ok) {
      for (const key of ['scheme', 'port', 'path'] as const) {
        if (!(key in expected)) expect(result.value?.[key]).toBeUndefined();
      }
    }
  });

  it('accepts a host name of 253 characters and refuses longer ones and long labels', () => {
    const label = 'a'.repeat(63);
    const host = [label, label, label, 'a'.repeat(61)].join('.');
    expect(host).toHaveLength(253);
    expect(parseBrokerAddress(host).ok).toBe(true);
    expect(parseBrokerAddress(`${host}a`).ok).toBe(false);
    expect(parseBrokerAddress(`${'a'.repeat(64)}.com`).ok).toBe(false);
  });
});

describe('text', () => {
  it('keeps or trims as asked', () => {
    expect(text()('K', ' a ')).toEqual({ ok: true, value: ' a ' });
    expect(text({ trim: true })('K', ' a ')).toEqual({ ok: true, value: 'a' });
  });
});

describe('willPayload', () => {
  it('accepts exactly 65535 bytes', () => {
    expect(willPayload()('K', 'x'.repeat(65535)).ok).toBe(true);
    expect(willPayload()('K', 'x'.repeat(65536)).ok).toBe(false);
  });
});

describe('describeValue', () => {
  it.each([
    ['abc', '"abc"'],
    ['a"b', '"a\\"b"'],
    [1.5, '1.5'],
    [true, 'true'],
    [null, 'null'],
    [undefined, 'undefined'],
    [{}, 'an object'],
    [[1], 'an array'],
    [Buffer.from('ab'), 'a Buffer of 2 bytes'],
    [Symbol('s'), 'a symbol'],
  ])('describes %p as %s', (value, expected) => {
    expect(describeValue(value)).toBe(expected);
  });

  it('cuts strings after 80 characters and gives their length', () => {
    expect(describeValue('x'.repeat(100))).toBe(`"${'x'.repeat(79)}…" (100 characters)`);
  });
});

import { MqttPayloadError } from '../errors/mqtt-payload.error';
import { decodePayload, utf8Text } from './payload.utils';

describe('utf8Text', () => {
  it.each([
    ['ASCII', Buffer.from('{"seq":1}')],
    ['Latin-1 range', Buffer.from('température 21 °C')],
    ['multi-byte characters', Buffer.from('温度 🌡️ ok')],
    ['a real U+FFFD sent by the publisher', Buffer.from('before \uFFFD after')],
    ['only U+FFFD', Buffer.from([0xef, 0xbf, 0xbd])],
    ['empty', Buffer.alloc(0)],
  ])('reads valid UTF-8 (%s) as it was sent', (_name, bytes) => {
    expect(utf8Text(bytes, 'text')).toBe(bytes.toString('utf8'));
  });

  it.each([
    ['a lone 0xff', [0x61, 0xff, 0x62]],
    ['a truncated two-byte sequence', [0x61, 0xc3]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['a UTF-16 surrogate (U+D800)', [0xed, 0xa0, 0x80]],
    ['a stray continuation byte', [0x80]],
    ['invalid bytes beside a real U+FFFD', [0xef, 0xbf, 0xbd, 0xff]],
  ])('refuses bytes that are not UTF-8 (%s), saying what to do', (_name, bytes) => {
    const read = () => utf8Text(Buffer.from(bytes), 'JSON for ReadingDto');
    expect(read).toThrow(MqttPayloadError);
    expect(read).toThrow(
      'payload is not valid UTF-8, so it cannot be read as JSON for ReadingDto: declare the @Payload() parameter as Buffer to receive binary payloads.',
    );
  });
});

describe('decodePayload', () => {
  it('parses JSON, keeps other text as text and refuses bytes that are not UTF-8', () => {
    expect(decodePayload(Buffer.from('{"a":[1,"\uFFFD"]}'))).toEqual({ a: [1, '\uFFFD'] });
    expect(decodePayload(Buffer.from('on'))).toBe('on');
    expect(decodePayload(Buffer.from('{not json'))).toBe('{not json');
    expect(() => decodePayload(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(MqttPayloadError);
  });
});

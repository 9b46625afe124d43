import type { IPublishPacket } from 'mqtt';
import { RoutedMessage } from './routed-message';
import { extractTopicParams, topicParam } from './topic-params';
import { parseFilter, topicMatches } from './topic.utils';

describe('extractTopicParams', () => {
  it.each<[string, string, Record<string, string>]>([
    ['sensors/+deviceId/temp', 'sensors/d1/temp', { deviceId: 'd1' }],
    ['sensors/+deviceId/temp', 'sensors//temp', { deviceId: '' }],
    ['logs/#path', 'logs', { path: '' }],
    ['logs/#path', 'logs/', { path: '' }],
    ['logs/#path', 'logs/a', { path: 'a' }],
    ['logs/#path', 'logs/a/b', { path: 'a/b' }],
    ['logs/#path', 'logs/a//b/', { path: 'a//b/' }],
    ['#all', 'x/y/z', { all: 'x/y/z' }],
    ['#all', '/', { all: '/' }],
    ['+first', 'only', { first: 'only' }],
    ['+a/+b', '/', { a: '', b: '' }],
    ['+a/+/+c/#d', 'one/two/three', { a: 'one', c: 'three', d: '' }],
    ['+a/+/+c/#d', 'one/two/three/four/five', { a: 'one', c: 'three', d: 'four/five' }],
    ['$share/g-1/a/+id', 'a/42', { id: '42' }],
    ['a/+b/#c', 'a/x', { b: 'x', c: '' }],
    ['+x/#y', 'ü/温度/🌡', { x: 'ü', y: '温度/🌡' }],
    ['plant/hall-7/sensors/+id/data', 'plant/hall-7/sensors/dev-42/data', { id: 'dev-42' }],
    ['plant/ü/+id/#rest', 'plant/ü/d1', { id: 'd1', rest: '' }],
    ['+site/hall//+dev', 's1/hall//d9', { site: 's1', dev: 'd9' }],
  ])('%j on %j', (raw, topic, expected) => {
    const parsed = parseFilter(raw);
    expect(topicMatches(parsed.matchFilter, topic)).toBe(true);
    expect(extractTopicParams(parsed, topic)).toEqual(expected);
    for (const [name, value] of Object.entries(expected)) {
      expect(topicParam(parsed, topic, name)).toBe(value);
    }
    expect(topicParam(parsed, topic, 'missing')).toBeUndefined();
  });

  it('returns one shared frozen empty object when there are no named parameters', () => {
    const a = extractTopicParams(parseFilter('a/+/#'), 'a/b/c');
    const b = extractTopicParams(parseFilter('x'), 'x');
    expect(a).toEqual({});
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('returns a fresh object per call when there are parameters', () => {
    const parsed = parseFilter('a/+id');
    const first = extractTopicParams(parsed, 'a/1');
    expect(extractTopicParams(parsed, 'a/1')).not.toBe(first);
  });
});

describe('RoutedMessage', () => {
  const packet = (topic: string) =>
    ({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 0 }) as unknown as IPublishPacket;

  it('builds params on first read, once, and reads single values the same way before and after', () => {
    const parsed = parseFilter('site/+site/+room/#rest');
    const message = new RoutedMessage('site/s1/r2/x/y', packet('site/s1/r2/x/y'), parsed);
    expect(message.param('room')).toBe('r2');
    expect(message.param('rest')).toBe('x/y');
    const params = message.params;
    expect(params).toEqual({ site: 's1', room: 'r2', rest: 'x/y' });
    expect(message.params).toBe(params);
    expect(message.param('site')).toBe('s1');
    expect(message.param('nope')).toBeUndefined();
  });

  it('carries the topic, the payload, the packet and the filter as written', () => {
    const parsed = parseFilter('$share/g/a/+id');
    const p = packet('a/1');
    const message = new RoutedMessage('a/1', p, { ...parsed, raw: 'a/+id' });
    expect(message).toMatchObject({ topic: 'a/1', payload: p.payload, packet: p, filter: 'a/+id' });
    expect(message.params).toEqual({ id: '1' });
  });
});

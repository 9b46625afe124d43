import {
  MQTT_MAX_TOPIC_BYTES,
  parseFilter,
  shareGroupProblem,
  sharedFilter,
  topicFilterProblem,
  topicMatches,
  topicNameProblem,
} from './topic.utils';

describe('topicNameProblem', () => {
  it.each([
    'a',
    'a/b/c',
    'sensors/kitchen/temp',
    '/',
    '//',
    '/a',
    'a/',
    'a//b',
    ' ',
    '$SYS/broker/uptime',
    '$share/g/a',
    'ünïcödé/温度/🌡',
    'a'.repeat(MQTT_MAX_TOPIC_BYTES),
    '€'.repeat(MQTT_MAX_TOPIC_BYTES / 3),
  ])('accepts %j', (topic) => {
    expect(topicNameProblem(topic)).toBeUndefined();
  });

  it.each<[unknown, string | RegExp]>([
    [undefined, 'must be a string'],
    [null, 'must be a string'],
    [42, 'must be a string'],
    [{}, 'must be a string'],
    ['', 'is empty'],
    ['a/+/b', 'contains the wildcard "+"; wildcards are only allowed in subscriptions'],
    ['+', 'contains the wildcard "+"; wildcards are only allowed in subscriptions'],
    ['a+', 'contains the wildcard "+"; wildcards are only allowed in subscriptions'],
    ['a/#', 'contains the wildcard "#"; wildcards are only allowed in subscriptions'],
    ['#', 'contains the wildcard "#"; wildcards are only allowed in subscriptions'],
    ['a#b', 'contains the wildcard "#"; wildcards are only allowed in subscriptions'],
    ['a\0b', 'contains a NUL character'],
    ['\0', 'contains a NUL character'],
    ['a/\uD800', /unpaired UTF-16 surrogate/],
    ['\uDC00/a', /unpaired UTF-16 surrogate/],
    ['a'.repeat(70000), 'is 70000 bytes long; the limit is 65535 bytes (UTF-8)'],
    ['€'.repeat(21846), 'is 65538 bytes long; the limit is 65535 bytes (UTF-8)'],
    ['🌡'.repeat(16384), 'is 65536 bytes long; the limit is 65535 bytes (UTF-8)'],
  ])('rejects %j', (topic, reason) => {
    const problem = topicNameProblem(topic);
    if (typeof reason === 'string') expect(problem).toBe(reason);
    else expect(problem).toMatch(reason);
  });
});

describe('shareGroupProblem', () => {
  it.each(['g', 'group-1', 'a.b.c', 'g_1', 'G:1', 'ü', '$g', ' '])('accepts %j', (group) => {
    expect(shareGroupProblem(group)).toBeUndefined();
  });

  it.each<[unknown, string]>([
    ['', 'the shared subscription group name is empty'],
    ['a/b', 'the shared subscription group name "a/b" must not contain "/"'],
    ['g+', 'the shared subscription group name "g+" must not contain "+"'],
    ['#', 'the shared subscription group name "#" must not contain "#"'],
    [7, 'the shared subscription group name must be a string'],
  ])('rejects %j', (group, reason) => {
    expect(shareGroupProblem(group)).toBe(reason);
  });
});

describe('topicFilterProblem', () => {
  it.each([
    'a',
    'a/b/c',
    '#',
    '+',
    '+/+',
    '/+',
    '+/',
    '/#',
    'a/#',
    'a/+/b',
    'a/+/#',
    '+/+/+/#',
    'a//b',
    '/',
    '$SYS/#',
    '$SYS/+/uptime',
    '$share',
    '$sharegroup/a',
    '$share/g/a',
    '$share/g/#',
    '$share/g/+/b/#',
    '$share/g-1/a/+',
    '$share/g.1/a',
    '$share/group.with-dots_and:colons/a/b',
    '$share/g//',
    'a'.repeat(MQTT_MAX_TOPIC_BYTES),
  ])('accepts %j', (filter) => {
    expect(topicFilterProblem(filter)).toBeUndefined();
  });

  const hashReason = '"#" must be the last level, on its own (as in "a/#")';
  const plusReason = '"+" must occupy a whole level (as in "a/+/b"), not be part of one';
  it.each<[string, string | RegExp]>([
    ['', 'is empty'],
    ['a/#/b', hashReason],
    ['#/a', hashReason],
    ['a/b#', hashReason],
    ['#a', hashReason],
    ['a/#b', hashReason],
    ['##', hashReason],
    ['a/+x', plusReason],
    ['a/x+', plusReason],
    ['a/x+y/b', plusReason],
    ['++', plusReason],
    ['+a/b', plusReason],
    ['a\0/b', 'contains a NUL character'],
    ['a/\uD83C', /unpaired UTF-16 surrogate/],
    ['a'.repeat(70000), 'is 70000 bytes long; the limit is 65535 bytes (UTF-8)'],
    ['$share/g', /needs a topic filter after its group/],
    ['$share/g/', /needs a topic filter after its group/],
    ['$share/', 'the shared subscription group name is empty'],
    ['$share//a', 'the shared subscription group name is empty'],
    ['$share/g+/a', 'the shared subscription group name "g+" must not contain "+"'],
    ['$share/+/a', 'the shared subscription group name "+" must not contain "+"'],
    ['$share/#/a', 'the shared subscription group name "#" must not contain "#"'],
    ['$share/g/a/#/b', hashReason],
    ['$share/g/a+', plusReason],
  ])('rejects %j', (filter, reason) => {
    const problem = topicFilterProblem(filter);
    if (typeof reason === 'string') expect(problem).toBe(reason);
    else expect(problem).toMatch(reason);
  });

  it('reports a non-string instead of throwing', () => {
    expect(topicFilterProblem(3 as unknown as string)).toBe('must be a string');
  });
});

describe('parseFilter', () => {
  it.each<
    [string, string, string, string | undefined, Array<[string, number, '+' | '#', number?]>]
  >([
    ['a/b', 'a/b', 'a/b', undefined, []],
    ['#', '#', '#', undefined, []],
    ['a/+/b/#', 'a/+/b/#', 'a/+/b/#', undefined, []],
    [
      'sensors/+deviceId/temp',
      'sensors/+/temp',
      'sensors/+/temp',
      undefined,
      [['deviceId', 1, '+', 8]],
    ],
    ['logs/#path', 'logs/#', 'logs/#', undefined, [['path', 1, '#', 5]]],
    ['#all', '#', '#', undefined, [['all', 0, '#', 0]]],
    ['+x', '+', '+', undefined, [['x', 0, '+', 0]]],
    ['a/+x', 'a/+', 'a/+', undefined, [['x', 1, '+', 2]]],
    [
      '+site/+/+_dev9/#rest',
      '+/+/+/#',
      '+/+/+/#',
      undefined,
      [
        ['site', 0, '+', 0],
        ['_dev9', 2, '+'],
        ['rest', 3, '#'],
      ],
    ],
    ['$share/g-1/a/+id', '$share/g-1/a/+', 'a/+', 'g-1', [['id', 1, '+', 2]]],
    [
      '$share/g.1/+a/#b',
      '$share/g.1/+/#',
      '+/#',
      'g.1',
      [
        ['a', 0, '+', 0],
        ['b', 1, '#'],
      ],
    ],
    ['$share/g/x', '$share/g/x', 'x', 'g', []],
    ['$SYS/+metric', '$SYS/+', '$SYS/+', undefined, [['metric', 1, '+', 5]]],
    ['a//+b', 'a//+', 'a//+', undefined, [['b', 2, '+', 3]]],
  ])('parses %j', (raw, filter, matchFilter, share, params) => {
    const parsed = parseFilter(raw);
    expect(parsed).toEqual({
      raw,
      filter,
      matchFilter,
      ...(share === undefined ? {} : { share }),
      params: params.map(([name, level, wildcard, offset]) =>
        offset === undefined ? { name, level, wildcard } : { name, level, wildcard, offset },
      ),
    });
    expect('share' in parsed).toBe(share !== undefined);
    expect(topicFilterProblem(parsed.filter)).toBeUndefined();
    expect(topicFilterProblem(parsed.matchFilter)).toBeUndefined();
  });

  it.each<[string, string]>([
    ['', 'is empty'],
    ['a/#/b', '"#" must be the last level, on its own (as in "a/#")'],
    ['#/a', '"#" must be the last level, on its own (as in "a/#")'],
    ['a/#rest/b', '"#rest" must be the last level: "#" matches everything below it'],
    ['a/b#', 'level "b#" contains "#"; "#" must be the last level, on its own (as in "a/#")'],
    ['a/x+', 'level "x+" contains "+"; "+" must occupy a whole level (as in "a/+/b")'],
    ['a/x+y', 'level "x+y" contains "+"; "+" must occupy a whole level (as in "a/+/b")'],
    ['a/+1x', 'level "+1x" is neither "+" nor a named parameter "+name"'],
    ['a/+x-y', 'level "+x-y" is neither "+" nor a named parameter "+name"'],
    ['a/++', 'level "++" is neither "+" nor a named parameter "+name"'],
    ['a/+x+', 'level "+x+" is neither "+" nor a named parameter "+name"'],
    ['a/##', 'level "##" is neither "#" nor a named parameter "#name"'],
    ['a/#x.y', 'level "#x.y" is neither "#" nor a named parameter "#name"'],
    ['+id/+id', 'the parameter name "id" is used more than once'],
    ['+id/a/#id', 'the parameter name "id" is used more than once'],
    ['a/+__proto__', 'the parameter name "__proto__" is reserved'],
    ['a\0/+b', 'contains a NUL character'],
    ['$share/g', 'a shared subscription needs a topic filter after its group'],
    ['$share/g/', 'a shared subscription needs a topic filter after its group'],
    ['$share//a', 'the shared subscription group name is empty'],
    ['$share/g+/a', 'the shared subscription group name "g+" must not contain "+"'],
    ['$share/#g/a', 'the shared subscription group name "#g" must not contain "#"'],
    ['$share/g/a/#x/b', '"#x" must be the last level'],
  ])('rejects %j', (raw, reason) => {
    expect(() => parseFilter(raw)).toThrow(Error);
    expect(() => parseFilter(raw)).toThrow(`Invalid MQTT topic filter "${raw}": ${reason}`);
  });

  it('rejects a filter whose broker form is too long', () => {
    const raw = `${'a'.repeat(70000)}/+name`;
    expect(() => parseFilter(raw)).toThrow('is 70002 bytes long; the limit is 65535 bytes (UTF-8)');
  });

  it('rejects a non-string', () => {
    expect(() => parseFilter(undefined as unknown as string)).toThrow('must be a string');
  });

  it('treats "+x" as a named parameter although plain MQTT rejects it', () => {
    expect(topicFilterProblem('a/+x')).toBeDefined();
    expect(parseFilter('a/+x').filter).toBe('a/+');
  });
});

describe('sharedFilter', () => {
  it.each<[string, string, string]>([
    ['a/b', 'g', '$share/g/a/b'],
    ['#', 'group-1', '$share/group-1/#'],
    ['a/+', 'a.b', '$share/a.b/a/+'],
    ['sensors/+id', 'g', '$share/g/sensors/+id'],
  ])('(%j, %j) → %j', (filter, group, expected) => {
    expect(sharedFilter(filter, group)).toBe(expected);
  });

  it('builds what parseFilter understands', () => {
    const parsed = parseFilter(sharedFilter('sensors/+id', 'workers'));
    expect(parsed).toMatchObject({
      filter: '$share/workers/sensors/+',
      matchFilter: 'sensors/+',
      share: 'workers',
    });
  });

  it.each<[string, string, string]>([
    ['a', '', 'the shared subscription group name is empty'],
    ['a', 'g/h', 'must not contain "/"'],
    ['a', 'g+', 'must not contain "+"'],
    ['a', '#', 'must not contain "#"'],
    ['', 'g', 'the topic filter is empty'],
  ])('rejects (%j, %j)', (filter, group, reason) => {
    expect(() => sharedFilter(filter, group)).toThrow(reason);
  });
});

describe('topicMatches', () => {
  it.each<[string, string, boolean]>([
    ['a', 'a', true],
    ['a', 'b', false],
    ['a', 'a/b', false],
    ['a/b', 'a', false],
    ['a/b', 'a/b', true],
    ['a/b', 'a//b', false],
    ['a//b', 'a//b', true],
    ['a//b', 'a/b', false],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a//c', true],
    ['a/+/c', 'a/c', false],
    ['a/+/c', 'a/b/b/c', false],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['+', 'a', true],
    ['+', '/a', false],
    ['+', 'a/', false],
    ['+/+', '/', true],
    ['+/+', 'a/b', true],
    ['/+', '/a', true],
    ['/+', 'a', false],
    ['+/a', '/a', true],
    ['a/#', 'a', true],
    ['a/#', 'a/', true],
    ['a/#', 'a/b', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'ab', false],
    ['a/#', 'b/a', false],
    ['a/b/#', 'a', false],
    ['a/+/#', 'a', false],
    ['a/+/#', 'a/b', true],
    ['+/#', 'a', true],
    ['#', 'a', true],
    ['#', '/', true],
    ['#', 'a/b/c', true],
    ['#', '$SYS', false],
    ['#', '$SYS/uptime', false],
    ['+/uptime', '$SYS/uptime', false],
    ['+/#', '$SYS/uptime', false],
    ['$SYS/#', '$SYS/uptime', true],
    ['$SYS/#', '$SYS', true],
    ['$SYS/+', '$SYS/uptime', true],
    ['$SYS/uptime', '$SYS/uptime', true],
    ['a/$x', 'a/$x', true],
    ['+/$x', 'a/$x', true],
    ['a/+', 'a/$x', true],
    ['#', 'a$', true],
    ['$share/g/a/+', 'a/b', true],
    ['$share/g/#', 'x/y', true],
    ['$share/g/a', '$share/g/a', false],
    ['A', 'a', false],
  ])('%j vs %j → %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

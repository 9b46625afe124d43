import { TopicTree } from './topic-tree';
import { topicMatches } from './topic.utils';

/** A tree holding each filter under a value equal to the filter itself. */
function treeOf(filters: string[]): TopicTree<string> {
  const tree = new TopicTree<string>();
  for (const filter of filters) tree.add(filter, filter);
  return tree;
}

/** mulberry32: a small seeded PRNG, so the random cross-checks are deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('TopicTree', () => {
  describe('match follows the MQTT rules', () => {
    it.each<[string, string, boolean]>([
      ['a', 'a', true],
      ['a', 'b', false],
      ['a', 'a/b', false],
      ['a/b', 'a', false],
      ['a/b', 'a/b', true],
      ['a/b', 'a//b', false],
      ['a//b', 'a//b', true],
      ['a//b', 'a/b', false],
      ['a/b/', 'a/b/', true],
      ['a/b/', 'a/b', false],
      ['/a', '/a', true],
      ['/a', 'a', false],
      ['a/+/c', 'a/b/c', true],
      ['a/+/c', 'a//c', true],
      ['a/+/c', 'a/c', false],
      ['a/+/c', 'a/b/x/c', false],
      ['a/+', 'a/', true],
      ['a/+', 'a', false],
      ['a/+', 'a/b/c', false],
      ['+', 'a', true],
      ['+', '/a', false],
      ['+', 'a/', false],
      ['+/+', '/', true],
      ['+/+', 'a/b', true],
      ['+/+', 'a', false],
      ['/+', '/a', true],
      ['/+', 'a/b', false],
      ['+/a', '/a', true],
      ['a/#', 'a', true],
      ['a/#', 'a/', true],
      ['a/#', 'a/b', true],
      ['a/#', 'a/b/c', true],
      ['a/#', 'ab', false],
      ['a/#', 'b', false],
      ['a/b/#', 'a', false],
      ['a/+/#', 'a', false],
      ['a/+/#', 'a/b', true],
      ['a/+/#', 'a/b/c/d', true],
      ['+/#', 'a', true],
      ['/#', '/', true],
      ['/#', 'a', false],
      ['#', 'a', true],
      ['#', '/', true],
      ['#', 'a/b/c/d/e', true],
      ['#', '$SYS', false],
      ['#', '$SYS/uptime', false],
      ['#', '$', false],
      ['+', '$SYS', false],
      ['+/uptime', '$SYS/uptime', false],
      ['+/#', '$SYS/uptime', false],
      ['+/+', '$SYS/uptime', false],
      ['$SYS/#', '$SYS', true],
      ['$SYS/#', '$SYS/uptime', true],
      ['$SYS/#', '$SYS/a/b', true],
      ['$SYS/+', '$SYS/uptime', true],
      ['$SYS/uptime', '$SYS/uptime', true],
      ['$SYS/uptime', '$SYS/other', false],
      ['$SYS', '$SYS', true],
      ['a/$x', 'a/$x', true],
      ['+/$x', 'a/$x', true],
      ['a/+', 'a/$x', true],
      ['a/#', 'a/$x/y', true],
      ['#', 'a$/b', true],
      ['A', 'a', false],
      ['温度/+', '温度/🌡', true],
    ])('%j vs %j → %s', (filter, topic, expected) => {
      const tree = treeOf([filter]);
      expect(tree.match(topic)).toEqual(expected ? [filter] : []);
      expect(topicMatches(filter, topic)).toBe(expected);
    });
  });

  it('returns every distinct value whose filter matches, in order of first registration', () => {
    const filters = ['a/b/c', '#', 'a/+/c', 'a/#', '+/+/+', 'a/b/+', 'a/b/c/#', 'x/#', '+/b'];
    const tree = treeOf(filters);
    expect(tree.match('a/b/c')).toEqual([
      'a/b/c',
      '#',
      'a/+/c',
      'a/#',
      '+/+/+',
      'a/b/+',
      'a/b/c/#',
    ]);
    expect(tree.match('a/b')).toEqual(['#', 'a/#', '+/b']);
    expect(tree.match('x')).toEqual(['#', 'x/#']);
    expect(tree.match('$x/b')).toEqual([]);
  });

  it('orders results by first registration even when many values match', () => {
    const tree = new TopicTree<number>();
    const filters = ['#', '+/#', '+/+/#', 'a/#', 'a/+/#', 'a/b/#', '+/b/+', 'a/b/c'];
    // 40 values (more than the insertion-sort threshold) in a scrambled filter order.
    for (let v = 0; v < 40; v++) tree.add(filters[(v * 5) % filters.length], v);
    expect(tree.match('a/b/c')).toEqual(Array.from({ length: 40 }, (_, v) => v));
  });

  it('returns a value once even when several of its filters match', () => {
    const tree = new TopicTree<string>();
    for (const filter of ['a/b', 'a/+', '+/b', 'a/#', '#', '+/+']) tree.add(filter, 'handler');
    tree.add('a/b', 'other');
    expect(tree.match('a/b')).toEqual(['handler', 'other']);
    expect(tree.match('a')).toEqual(['handler']);
    expect(tree.size).toBe(7);
  });

  it('keeps the order of first registration when a value is added under more filters later', () => {
    const tree = new TopicTree<string>();
    tree.add('a/+', 'first');
    tree.add('a/b', 'second');
    tree.add('a/b', 'first');
    expect(tree.match('a/b')).toEqual(['first', 'second']);
  });

  it('compares values by identity', () => {
    const tree = new TopicTree<{ id: number }>();
    const one = { id: 1 };
    const twin = { id: 1 };
    tree.add('a', one);
    tree.add('a', twin);
    tree.add('+', one);
    const result = tree.match('a');
    expect(result).toHaveLength(2);
    expect(result[0]).toBe(one);
    expect(result[1]).toBe(twin);
  });

  it('stores the same value under the same filter once', () => {
    const tree = new TopicTree<string>();
    tree.add('a/+', 'v');
    tree.add('a/+', 'v');
    expect(tree.size).toBe(1);
    expect(tree.filters()).toEqual(['a/+']);
    expect(tree.match('a/b')).toEqual(['v']);
    expect(tree.remove('a/+', 'v')).toBe(true);
    expect(tree.match('a/b')).toEqual([]);
  });

  it('returns a new array when several values match, a shared one for none or one', () => {
    const tree = treeOf(['a', '+', 'b']);
    const several = tree.match('a');
    expect(several).toEqual(['a', '+']);
    expect(tree.match('a')).not.toBe(several);
    const one = tree.match('c');
    expect(one).toEqual(['+']);
    expect(tree.match('d')).toBe(one);
    const none = treeOf(['x']).match('y');
    expect(none).toEqual([]);
    expect(treeOf(['z']).match('y')).toBe(none);
  });

  it('matches topics of any depth one after another, sharing nothing between calls', () => {
    const tree = treeOf(['+/b/+/d', 'a/+/c/+', 'a/b/c/d/e/f/g', '+/+/#', 'x/b']);
    expect(tree.match('a/b/c/d/e/f/g')).toEqual(['a/b/c/d/e/f/g', '+/+/#']);
    expect(tree.match('a/b/c/d')).toEqual(['+/b/+/d', 'a/+/c/+', '+/+/#']);
    expect(tree.match('x/b')).toEqual(['+/+/#', 'x/b']);
    expect(tree.match('x/y/c/d')).toEqual(['+/+/#']);
    expect(tree.match('a')).toEqual([]);
    expect(tree.match('')).toEqual([]);
    expect(tree.match('a/b/c/d/e/f/g/h')).toEqual(['+/+/#']);
    expect(tree.match('$x/b')).toEqual([]);
    expect(tree.match('a/b/c/d')).toEqual(['+/b/+/d', 'a/+/c/+', '+/+/#']);
  });

  describe('remove', () => {
    it('removes one (filter, value) pair and reports whether it was stored', () => {
      const tree = new TopicTree<string>();
      tree.add('a/+', 'x');
      tree.add('a/+', 'y');
      tree.add('a/#', 'x');
      expect(tree.remove('a/+', 'x')).toBe(true);
      expect(tree.remove('a/+', 'x')).toBe(false);
      expect(tree.remove('a/+', 'z')).toBe(false);
      expect(tree.remove('nope', 'y')).toBe(false);
      expect(tree.remove('a/#', 'y')).toBe(false);
      expect(tree.size).toBe(2);
      expect(tree.match('a/b')).toEqual(['x', 'y']);
      expect(tree.remove('a/#', 'x')).toBe(true);
      expect(tree.match('a/b')).toEqual(['y']);
      expect(tree.match('a')).toEqual([]);
    });

    it('prunes the nodes left empty', () => {
      const tree = new TopicTree<string>();
      const filters = ['a/b/c/d', 'a/+/c/#', 'a/b', '#', '+', '/', '+/+/+', 'a/b/c/d/#', '$SYS/#'];
      for (const filter of filters) tree.add(filter, filter);
      for (const filter of filters) expect(tree.remove(filter, filter)).toBe(true);
      expect(tree.size).toBe(0);
      expect(tree.filters()).toEqual([]);
      // White-box: nothing but an empty root is left.
      const internals = (t: TopicTree<string>) => (t as unknown as { root: unknown }).root;
      expect(internals(tree)).toEqual(internals(new TopicTree<string>()));
    });

    it('keeps the nodes other filters still use', () => {
      const tree = treeOf(['a/b/c', 'a/b', 'a/b/#', 'a/+/c']);
      tree.remove('a/b/c', 'a/b/c');
      expect(tree.match('a/b/c')).toEqual(['a/b/#', 'a/+/c']);
      tree.remove('a/b/#', 'a/b/#');
      expect(tree.match('a/b')).toEqual(['a/b']);
      expect(tree.match('a/b/c')).toEqual(['a/+/c']);
      tree.remove('a/b', 'a/b');
      expect(tree.match('a/b')).toEqual([]);
      expect(tree.match('a/x/c')).toEqual(['a/+/c']);
      expect(tree.filters()).toEqual(['a/+/c']);
    });

    it('forgets the registration order of a value removed everywhere', () => {
      const tree = new TopicTree<string>();
      tree.add('a', 'early');
      tree.add('a', 'late');
      tree.remove('a', 'early');
      tree.add('a', 'early');
      expect(tree.match('a')).toEqual(['late', 'early']);
    });
  });

  it('counts pairs in size and lists distinct filters in order of first use', () => {
    const tree = new TopicTree<number>();
    expect(tree.size).toBe(0);
    tree.add('b/#', 1);
    tree.add('a', 1);
    tree.add('b/#', 2);
    tree.add('+', 3);
    expect(tree.size).toBe(4);
    expect(tree.filters()).toEqual(['b/#', 'a', '+']);
  });

  it('clear empties the tree, which stays usable', () => {
    const tree = treeOf(['#', 'a/+', 'a']);
    tree.clear();
    expect(tree.size).toBe(0);
    expect(tree.filters()).toEqual([]);
    expect(tree.match('a')).toEqual([]);
    tree.add('a', 'again');
    expect(tree.match('a')).toEqual(['again']);
  });

  it('finds the right values among 10,000 filters', () => {
    const tree = new TopicTree<string>();
    const filters: string[] = [];
    for (let i = 0; i < 2500; i++) {
      filters.push(
        `building/${i}/+/temp`,
        `building/+/dev${i}/#`,
        `+/${i}/#`,
        `building/${i}/dev${i}/temp`,
      );
    }
    for (const filter of filters) tree.add(filter, filter);
    expect(tree.size).toBe(10000);
    expect(tree.match('building/7/dev7/temp')).toEqual([
      'building/7/+/temp',
      'building/+/dev7/#',
      '+/7/#',
      'building/7/dev7/temp',
    ]);
    expect(tree.match('building/7/dev8/temp')).toEqual([
      'building/7/+/temp',
      '+/7/#',
      'building/+/dev8/#',
    ]);
    expect(tree.match('building/x/dev2499')).toEqual(['building/+/dev2499/#']);
    expect(tree.match('other/2499')).toEqual(['+/2499/#']);
    expect(tree.match('building/10000/dev10000/temp')).toEqual([]);
    expect(tree.match('$building/7/dev7/temp')).toEqual([]);
    for (let i = 0; i < 2500; i += 97) {
      const topic = `building/${i}/dev${(i * 7) % 2500}/temp`;
      expect(tree.match(topic)).toEqual(filters.filter((f) => topicMatches(f, topic)));
    }
  });

  it('never answers from a stale remembered level after filters change', () => {
    const tree = new TopicTree<string>();
    tree.add('a/x1/data', 'x1');
    tree.add('a/y/data', 'y');
    expect(tree.match('a/x1/data')).toEqual(['x1']);
    expect(tree.match('a/x1/data')).toEqual(['x1']);
    tree.remove('a/x1/data', 'x1');
    expect(tree.match('a/x1/data')).toEqual([]);
    tree.add('a/x1/data', 'again');
    expect(tree.match('a/x1/data')).toEqual(['again']);
    expect(tree.match('a/z/data')).toEqual([]);
    tree.add('a/z/data', 'z');
    expect(tree.match('a/z/data')).toEqual(['z']);
  });

  it('finds literal levels that are empty or start beyond Latin-1 among many siblings', () => {
    const tree = new TopicTree<string>();
    for (const key of ['', '温度', 'ünit', 'b', 'c']) tree.add(`s/${key}/v`, key || 'empty');
    expect(tree.match('s//v')).toEqual(['empty']);
    expect(tree.match('s/温度/v')).toEqual(['温度']);
    expect(tree.match('s/ünit/v')).toEqual(['ünit']);
    expect(tree.match('s/d/v')).toEqual([]);
    expect(tree.match('s/温/v')).toEqual([]);
    tree.remove('s/b/v', 'b');
    expect(tree.match('s/b/v')).toEqual([]);
    expect(tree.match('s/c/v')).toEqual(['c']);
  });

  it('agrees with topicMatches on 2,000 random filters and topics', () => {
    const random = prng(20240601);
    const pick = <V>(items: readonly V[]): V => items[Math.floor(random() * items.length)];
    const words = ['a', 'b', 'c', '', '$SYS', '$x', 'ü'];
    const randomTopic = (): string =>
      Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(words)).join('/');
    const randomFilter = (): string => {
      const depth = 1 + Math.floor(random() * 4);
      const levels: string[] = [];
      for (let i = 0; i < depth; i++) {
        const r = random();
        if (i === depth - 1 && r < 0.2) levels.push('#');
        else levels.push(r < 0.5 ? '+' : pick(words));
      }
      return levels.join('/');
    };

    const filters = Array.from({ length: 2000 }, randomFilter);
    const tree = new TopicTree<number>();
    filters.forEach((filter, i) => tree.add(filter, i));
    // Also register a few values under several filters, which must still come back once.
    const shared = [-1, -2, -3];
    for (let i = 0; i < 300; i++) tree.add(filters[i], shared[i % 3]);

    // Expected: the matching indexes in ascending order (their registration order), then the
    // shared values, registered after them, each at most once.
    const expectedFor = (topic: string, live: (i: number) => boolean): string => {
      const expected: number[] = [];
      for (let i = 0; i < filters.length; i++) {
        if (live(i) && topicMatches(filters[i], topic)) expected.push(i);
      }
      shared.forEach((s, k) => {
        for (let i = k; i < 300; i += 3) {
          if (topicMatches(filters[i], topic)) {
            expected.push(s);
            break;
          }
        }
      });
      return expected.join();
    };

    const mismatches: string[] = [];
    let pairs = 0;
    let dollarPairs = 0;
    for (let n = 0; n < 2000; n++) {
      const topic = randomTopic();
      const actual = tree.match(topic).join();
      const expected = expectedFor(topic, () => true);
      if (actual !== expected) mismatches.push(`${topic}: got [${actual}], want [${expected}]`);
      const count = actual === '' ? 0 : actual.split(',').length;
      pairs += count;
      if (topic.startsWith('$')) dollarPairs += count;
    }
    expect(mismatches).toEqual([]);
    // The data must exercise both outcomes, and `$` topics must match some (literal) filters.
    expect(pairs).toBeGreaterThan(20000);
    expect(pairs).toBeLessThan(2000 * 2000 * 0.25);
    expect(dollarPairs).toBeGreaterThan(100);

    // Remove the even filters' own values and check again.
    for (let i = 0; i < 2000; i += 2) expect(tree.remove(filters[i], i)).toBe(true);
    // A shared value registered twice under the same filter is stored once.
    const sharedPairs = new Set(filters.slice(0, 300).map((f, i) => `${shared[i % 3]} ${f}`));
    expect(tree.size).toBe(1000 + sharedPairs.size);
    for (let n = 0; n < 500; n++) {
      const topic = randomTopic();
      const actual = tree.match(topic).join();
      const expected = expectedFor(topic, (i) => i % 2 === 1);
      if (actual !== expected) mismatches.push(`${topic}: got [${actual}], want [${expected}]`);
    }
    expect(mismatches).toEqual([]);
  });

  it('compares literal chains in one piece and keeps them right as filters come and go', () => {
    // Few filters over deep topics: long single-child chains, which the walk compares whole,
    // broken and restored as filters ending, branching or holding `#` inside them come and go.
    const random = prng(20261130);
    const pick = <V>(items: readonly V[]): V => items[Math.floor(random() * items.length)];
    const words = ['plant', 'line-1', 'sensors-of-hall-7', '', 'a', 'dev-00042'];
    const topics = new Set<string>();
    while (topics.size < 300) {
      topics.add(Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(words)).join('/'));
    }
    const deep = [...topics].filter((t) => t.split('/').length >= 4);
    const randomFilter = (): string => {
      const levels = pick(deep).split('/');
      const depth = 1 + Math.floor(random() * levels.length);
      const kept = levels.slice(0, depth).map((level) => (random() < 0.15 ? '+' : level));
      if (random() < 0.2) kept.push('#');
      return kept.join('/');
    };

    const tree = new TopicTree<string>();
    const live = new Set<string>();
    const mismatches: string[] = [];
    for (let step = 0; step < 400 && mismatches.length === 0; step++) {
      const filter = live.size > 0 && random() < 0.4 ? pick([...live]) : randomFilter();
      if (live.has(filter)) {
        expect(tree.remove(filter, filter)).toBe(true);
        live.delete(filter);
      } else {
        tree.add(filter, filter);
        live.add(filter);
      }
      for (const topic of topics) {
        const actual = [...tree.match(topic)].sort().join(' ');
        const expected = [...live]
          .filter((f) => topicMatches(f, topic))
          .sort()
          .join(' ');
        if (actual !== expected) {
          mismatches.push(`step ${step}, ${topic}: got [${actual}], want [${expected}]`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(live.size).toBeGreaterThan(20);
  });
});

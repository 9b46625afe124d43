import { TopicCache } from './topic-cache';

/** Lookups over which the cache judges its hit rate (TopicCache's WINDOW). */
const WINDOW = 4096;
/** Windows the cache stays off before it is tried again (TopicCache's RETRY_WINDOWS). */
const RETRY_WINDOWS = 16;
/** The longest wait between tries (TopicCache's MAX_RETRY_WINDOWS). */
const MAX_RETRY_WINDOWS = 256;
/** Topics remembered before the cache starts over (TopicCache's CACHE_SIZE). */
const CACHE_SIZE = 10_000;

/** A cache whose computations are counted per topic. */
function setup() {
  const computed = new Map<string, number>();
  const cache = new TopicCache<string[]>((topic) => {
    computed.set(topic, (computed.get(topic) ?? 0) + 1);
    return [`value of ${topic}`];
  });
  const count = (topic: string) => computed.get(topic) ?? 0;
  const total = () => [...computed.values()].reduce((a, b) => a + b, 0);
  return { cache, count, total };
}

/** `n` lookups of topics never seen before (all misses). */
function distinct(cache: TopicCache<string[]>, n: number, prefix: string): void {
  for (let i = 0; i < n; i++) cache.get(`${prefix}/${i}`);
}

/** Whether a lookup of `topic` (not the last one looked up) is answered from the map. */
function isRemembered(setupResult: ReturnType<typeof setup>, topic: string): boolean {
  const before = setupResult.count(topic);
  setupResult.cache.get(topic);
  return setupResult.count(topic) === before;
}

describe('TopicCache', () => {
  it('computes a topic once and answers repeats from memory', () => {
    const { cache, count, total } = setup();
    const a = cache.get('a');
    expect(a).toEqual(['value of a']);
    cache.get('b');
    expect(cache.get('a')).toBe(a);
    cache.get('b');
    cache.get('a');
    expect(count('a')).toBe(1);
    expect(count('b')).toBe(1);
    expect(total()).toBe(2);
  });

  it('answers a stream of one topic without computing again', () => {
    const { cache, count } = setup();
    const first = cache.get('same');
    let other = 0;
    for (let i = 0; i < 3 * WINDOW; i++) if (cache.get('same') !== first) other++;
    expect(other).toBe(0);
    expect(count('same')).toBe(1);
  });

  it('clear() forgets every result, the last topic looked up included', () => {
    const { cache, count } = setup();
    cache.get('a');
    cache.get('b');
    cache.clear();
    cache.get('b');
    cache.get('a');
    expect(count('a')).toBe(2);
    expect(count('b')).toBe(2);
    // Remembered again after that.
    cache.get('b');
    cache.get('a');
    expect(count('a')).toBe(2);
    expect(count('b')).toBe(2);
  });

  it('never remembers an undefined result', () => {
    let calls = 0;
    const cache = new TopicCache<string | undefined>(() => {
      calls++;
      return undefined;
    });
    cache.get('a');
    cache.get('a');
    cache.get('b');
    cache.get('a');
    expect(calls).toBe(4);
  });

  it('stays on while at least half the lookups of a window are hits', () => {
    const s = setup();
    // Two hot topics and one new topic in turn: two hits in three lookups.
    for (let i = 0; i < 2 * WINDOW; i++) {
      s.cache.get('hot/1');
      s.cache.get('hot/2');
      s.cache.get(`new/${i}`);
    }
    expect(s.count('hot/1')).toBe(1);
    expect(s.count('hot/2')).toBe(1);
    expect(isRemembered(s, 'new/0')).toBe(true);
  });

  it('turns off after a window of topics that do not repeat, and computes every lookup', () => {
    const s = setup();
    distinct(s.cache, WINDOW - 2, 'cold');
    s.cache.get('x');
    s.cache.get('y');
    // The window is over with no hit: the map is cleared and no longer used.
    expect(isRemembered(s, 'x')).toBe(false);
    expect(isRemembered(s, 'y')).toBe(false);
    expect(isRemembered(s, 'x')).toBe(false);
    expect(s.count('x')).toBe(3);
    // A stream of one topic still skips the computation.
    s.cache.get('x');
    expect(s.count('x')).toBe(3);
  });

  it('judges the hit rate exactly at the end of each window', () => {
    const s = setup();
    distinct(s.cache, WINDOW - 3, 'cold');
    s.cache.get('x');
    s.cache.get('y');
    // Still on: the 4096th lookup is this one, which is a hit, but the window had too few.
    expect(isRemembered(s, 'x')).toBe(true);
    // It was judged at that lookup: off from now on.
    expect(isRemembered(s, 'y')).toBe(false);
  });

  it(`is tried again after ${RETRY_WINDOWS} windows off, and turns off again if still cold`, () => {
    const s = setup();
    distinct(s.cache, WINDOW, 'cold'); // off
    distinct(s.cache, RETRY_WINDOWS * WINDOW - 3, 'off');
    s.cache.get('x');
    s.cache.get('y');
    expect(isRemembered(s, 'x')).toBe(false); // the last lookup while off: on again after it
    expect(s.count('x')).toBe(2);
    s.cache.get('y');
    s.cache.get('x'); // computed, and remembered now
    s.cache.get('y');
    expect(isRemembered(s, 'x')).toBe(true);
    expect(isRemembered(s, 'y')).toBe(true);
    expect(s.count('x')).toBe(3);

    // Another cold window: off again.
    distinct(s.cache, WINDOW, 'still-cold');
    expect(isRemembered(s, 'x')).toBe(false);
    expect(isRemembered(s, 'y')).toBe(false);
  });

  it('waits twice as long after each cold try, up to a limit, and as little again once warm', () => {
    const s = setup();
    /** Lookups until the cache remembers again (two topics in turn: each a real lookup). */
    const offFor = (): number => {
      let n = 0;
      for (;;) {
        s.cache.get('probe-b');
        n += 2;
        if (isRemembered(s, 'probe-a')) return n;
      }
    };
    distinct(s.cache, WINDOW, 'cold'); // off, first wait: RETRY_WINDOWS
    const waits: number[] = [];
    for (let tries = 0; tries < 7; tries++) {
      waits.push(Math.round(offFor() / WINDOW));
      distinct(s.cache, WINDOW, `still-cold-${tries}`); // the try stays cold: off again
    }
    expect(waits).toEqual(
      [16, 32, 64, 128, 256, 512, 1024].map((w) => Math.min(w, MAX_RETRY_WINDOWS)),
    );

    // A warm window resets the wait.
    offFor();
    for (let i = 0; i < WINDOW; i++) s.cache.get(`hot/${i % 2}`);
    distinct(s.cache, WINDOW, 'cold-again');
    expect(Math.round(offFor() / WINDOW)).toBe(RETRY_WINDOWS);
  });

  it('stays on after being tried again when topics repeat by then', () => {
    const s = setup();
    distinct(s.cache, WINDOW, 'cold');
    distinct(s.cache, RETRY_WINDOWS * WINDOW, 'off'); // on again
    for (let i = 0; i < 2 * WINDOW; i++) {
      s.cache.get('hot/1');
      s.cache.get('hot/2');
    }
    expect(s.count('hot/1')).toBe(1);
    expect(isRemembered(s, 'hot/1')).toBe(true);
  });

  it(`starts over once ${CACHE_SIZE} topics are remembered`, () => {
    const s = setup();
    // Two hits in three lookups keep it on while the map fills.
    const step = (i: number) => {
      s.cache.get('hot/1');
      s.cache.get('hot/2');
      s.cache.get(`new/${i}`);
    };
    for (let i = 0; i < CACHE_SIZE - 2; i++) step(i);
    expect(s.count('hot/1')).toBe(1);
    expect(isRemembered(s, 'new/0')).toBe(true); // the map is full now: 10,000 topics
    step(CACHE_SIZE); // one more topic clears it
    expect(isRemembered(s, 'new/1')).toBe(false);
    expect(isRemembered(s, 'hot/1')).toBe(false);
    expect(isRemembered(s, 'hot/1')).toBe(true);
  });
});

/** Topics whose lookups are remembered; past that the cache starts over. */
const CACHE_SIZE = 10_000;
/** Lookups over which the cache's hit rate is judged. */
const WINDOW = 4096;
/** Windows the cache stays off before it is tried again. */
const RETRY_WINDOWS = 16;

/**
 * Remembers the result of a topic lookup. Devices publish to the same topics over and over, so
 * results are cached; when topics hardly repeat (say 100k devices each on its own topic) the
 * cache only costs, so it is bypassed while its hit rate over a window stays low, and sampled
 * again later. A stream of one topic skips even the map lookup.
 */
export class TopicCache<T> {
  private readonly map = new Map<string, T>();
  private enabled = true;
  private lookups = 0;
  private hits = 0;
  private idleWindows = 0;
  private lastTopic?: string;
  private lastValue?: T;

  constructor(private readonly compute: (topic: string) => T) {}

  /** The value for `topic`, computed or remembered. */
  get(topic: string): T {
    if (topic === this.lastTopic && this.lastValue !== undefined) return this.lastValue;
    let value: T | undefined;
    if (this.enabled) {
      value = this.map.get(topic);
      if (value !== undefined) this.hits++;
    }
    if (value === undefined) {
      value = this.compute(topic);
      if (this.enabled) {
        if (this.map.size >= CACHE_SIZE) this.map.clear();
        this.map.set(topic, value);
      }
    }
    if (++this.lookups === WINDOW) this.judge();
    this.lastTopic = topic;
    this.lastValue = value;
    return value;
  }

  /** Forgets every result (the handlers changed). */
  clear(): void {
    this.map.clear();
    this.lastValue = undefined;
  }

  private judge(): void {
    if (this.enabled) {
      this.enabled = this.hits * 2 >= WINDOW;
      if (!this.enabled) this.map.clear();
      this.idleWindows = 0;
    } else if (++this.idleWindows >= RETRY_WINDOWS) {
      this.enabled = true;
    }
    this.lookups = 0;
    this.hits = 0;
  }
}

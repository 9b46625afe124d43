/** Topics whose lookups are remembered; past that the cache starts over. */
const CACHE_SIZE = 10_000;
/** Lookups over which the cache's hit rate is judged. */
const WINDOW = 4096;
/** Windows the cache stays off before it is tried again; doubled after each cold try. */
const RETRY_WINDOWS = 16;
/** The longest wait before another try: 256 windows, about a million lookups. */
const MAX_RETRY_WINDOWS = 256;

/**
 * Remembers the result of a topic lookup. Devices publish to the same topics over and over, so
 * results are cached; when topics hardly repeat (say 100k devices each on its own topic) the
 * cache only costs, so it is bypassed while its hit rate over a window stays low, and sampled
 * again later, less often each time it is still cold (a sample fills the map with topics that
 * never come back, garbage the heap must then promote and collect). A stream of one topic skips
 * even the map lookup.
 */
export class TopicCache<T> {
  private readonly map = new Map<string, T>();
  private enabled = true;
  private lookups = 0;
  private hits = 0;
  private idleWindows = 0;
  private retryAfter = RETRY_WINDOWS;
  /** Whether the current on-period is a retry that has not yet found a good window. */
  private retrying = false;
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
      if (this.hits * 2 >= WINDOW) {
        this.retrying = false;
        this.retryAfter = RETRY_WINDOWS;
      } else {
        this.enabled = false;
        this.map.clear();
        if (this.retrying) this.retryAfter = Math.min(this.retryAfter * 2, MAX_RETRY_WINDOWS);
        this.retrying = false;
      }
      this.idleWindows = 0;
    } else if (++this.idleWindows >= this.retryAfter) {
      this.enabled = true;
      this.retrying = true;
    }
    this.lookups = 0;
    this.hits = 0;
  }
}

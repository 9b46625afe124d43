/**
 * The trie's nodes and the walk of one lookup, for `TopicTree` (topic-tree.ts): kept apart so
 * that each file reads in one sitting.
 */

/** One distinct value stored in a tree, shared by every filter it is registered under. */
export interface Entry<T> {
  readonly value: T;
  /** Order of first registration; results are sorted by it. */
  readonly seq: number;
  /** Number of filters the value is registered under; the entry is dropped at zero. */
  refs: number;
  /** Stamp of the last `match` call that collected this entry (deduplication without a Set). */
  mark: number;
  /**
   * What `match` returns when it finds this value alone: one array, made once. A lookup
   * that allocates its result would, once results are kept for a while (a cache), teach V8 to
   * allocate every later result in the old generation, where each costs a full collection.
   */
  readonly alone: readonly T[];
}

/** A level of the trie. Every field is always present so that all nodes share one shape. */
export class TopicNode<T> {
  /** Children for literal levels, by level text. */
  children: Map<string, TopicNode<T>> | undefined = undefined;
  /** Child for a `+` level. */
  plus: TopicNode<T> | undefined = undefined;
  /** Entries of the filters ending with `#` right below this node (`#` is always last). */
  hash: Entry<T>[] | undefined = undefined;
  /** Entries of the filters ending at this node. */
  values: Entry<T>[] | undefined = undefined;
  /** The level text of the only literal child, when there is exactly one. */
  onlyKey: string | undefined = undefined;
  onlyChild: TopicNode<T> | undefined = undefined;
  /**
   * When there is exactly one literal child: its level and the levels below it up to the first
   * node that branches or holds filters, joined with `/` (device topics share long literal
   * prefixes: `plant/line-1/sensors/+id/data`). A walk compares them in one piece, as one
   * string comparison, and lands on `runChild`, `runLevels` levels further down.
   */
  run: string | undefined = undefined;
  runChild: TopicNode<T> | undefined = undefined;
  runLevels = 0;
  /**
   * The first characters (codes below 256) of the literal children's keys, one bit each: a level
   * that starts with another character has no literal child, known without slicing it.
   */
  heads: Uint32Array | undefined = undefined;
  /** The last level found among `children`, and its node. */
  memoKey: string | undefined = undefined;
  memoChild: TopicNode<T> | undefined = undefined;

  /** Keeps `onlyKey`, `heads` and the memo in step with `children` (`added`: the new key). */
  childrenChanged(added?: string): void {
    const children = this.children;
    this.memoKey = undefined;
    this.memoChild = undefined;
    if (children !== undefined && children.size === 1) {
      const [[key, child]] = children;
      this.onlyKey = key;
      this.onlyChild = child;
    } else {
      this.onlyKey = undefined;
      this.onlyChild = undefined;
    }
    if (children === undefined) {
      this.heads = undefined;
    } else if (added !== undefined && this.heads !== undefined) {
      setHead(this.heads, added);
    } else {
      const heads = (this.heads = new Uint32Array(8));
      for (const key of children.keys()) setHead(heads, key);
    }
  }

  /**
   * Recomputes `run` from `onlyKey` and the nodes below. The tree calls it for every node on the
   * path of a filter it added or removed: no other node's run can change.
   */
  updateRun(): void {
    let child = this.onlyChild;
    if (child === undefined) {
      this.run = undefined;
      this.runChild = undefined;
      this.runLevels = 0;
      return;
    }
    let run = this.onlyKey!;
    let levels = 1;
    // A node the walk may skip: one literal child, and no filter ends or branches off at it.
    while (
      child.onlyChild !== undefined &&
      child.plus === undefined &&
      child.hash === undefined &&
      child.values === undefined
    ) {
      run += `/${child.onlyKey!}`;
      child = child.onlyChild;
      levels++;
    }
    this.run = run;
    this.runChild = child;
    this.runLevels = levels;
  }

  /**
   * The node reached from here by the literal level(s) at `pos` of the walk's topic, or
   * undefined; `walk.stepPos` and `walk.stepLevels` then tell where the walk goes on. Consecutive
   * topics often share a level (`plant/line-1/dev1`, `plant/line-1/dev2`): it is compared in
   * place with the last one looked up before anything is sliced, hashed or looked up.
   */
  literal(walk: Walk<T>, level: number, pos: number): TopicNode<T> | undefined {
    const run = this.run;
    if (run !== undefined) {
      const next = walk.skip(pos, run);
      if (next < 0) return undefined;
      walk.stepPos = next;
      walk.stepLevels = this.runLevels;
      return this.runChild;
    }
    const children = this.children;
    if (children === undefined) return undefined;
    walk.stepLevels = 1;
    const memo = this.memoKey;
    if (memo !== undefined) {
      const next = walk.skip(pos, memo);
      if (next >= 0) {
        walk.stepPos = next;
        return this.memoChild;
      }
    }
    // An empty level (a `/` here, or the topic's end) has no first character to check.
    const head = pos < walk.length ? walk.topic.charCodeAt(pos) : 47; /* / */
    if (head !== 47 && head < 256 && (this.heads![head >>> 5] & (1 << (head & 31))) === 0) {
      return undefined;
    }
    const end = walk.end(pos);
    walk.stepPos = end + 1;
    const text = walk.text(level, pos, end);
    const child = children.get(text);
    // Only what was found is remembered: a miss costs no write, and misses rarely repeat.
    if (child !== undefined) {
      this.memoKey = text;
      this.memoChild = child;
    }
    return child;
  }

  /** Whether the node holds nothing and can be pruned. */
  isEmpty(): boolean {
    return (
      this.values === undefined &&
      this.hash === undefined &&
      this.plus === undefined &&
      (this.children === undefined || this.children.size === 0)
    );
  }
}

/** Sets the bit of `key`'s first character (codes below 256; others are always looked up). */
function setHead(heads: Uint32Array, key: string): void {
  const code = key.length > 0 ? key.charCodeAt(0) : -1;
  if (code >= 0 && code < 256) heads[code >>> 5] |= 1 << (code & 31);
}

/** Appends the entries of `slot` not yet collected by the current `match` call. */
export function collectSlot<T>(slot: Entry<T>[], walk: Walk<T>): void {
  const stamp = walk.stamp;
  for (let i = 0; i < slot.length; i++) {
    const entry = slot[i];
    if (entry.mark !== stamp) {
      entry.mark = stamp;
      walk.out[walk.found++] = entry;
    }
  }
}

/** Keys up to this length are compared character by character; longer ones as one string. */
const SHORT_KEY = 8;

/**
 * The state of one `match` call, reused across calls. The walk moves by character positions in
 * the topic (`pos`: where the current level starts; past the end: no level left) and finds a
 * level's end only when a node needs it (`indexOf`, not a loop over every character); a level's
 * text is sliced at most once, when a node with several literal children first needs it.
 */
export class Walk<T> {
  topic = '';
  length = 0;
  /** Stamp of the current call, for `Entry.mark` and `textStamps`. */
  stamp = 0;
  /** Where `TopicNode.literal` says the walk goes on: the next level's position, levels moved. */
  stepPos = 0;
  stepLevels = 0;
  /** Text of each level, valid where `textStamps` holds the current stamp. */
  readonly texts: string[] = [];
  readonly textStamps: number[] = [];
  /**
   * The entries collected so far: the first `found` of `out`. The array is kept (never
   * truncated) from call to call, so a lookup neither shrinks nor regrows it.
   */
  readonly out: Entry<T>[] = [];
  found = 0;

  /** Starts a call on `topic`. */
  begin(topic: string, stamp: number): void {
    this.topic = topic;
    this.length = topic.length;
    this.stamp = stamp;
    this.found = 0;
  }

  /** The end of the level starting at `pos` (the index of its `/`, or the topic's length). */
  end(pos: number): number {
    const slash = this.topic.indexOf('/', pos);
    return slash < 0 ? this.length : slash;
  }

  /**
   * Where the level after the levels `run` (joined with `/`) starts, when the topic holds
   * exactly those levels from `pos` on; else -1.
   */
  skip(pos: number, run: string): number {
    const end = pos + run.length;
    const length = this.length;
    if (end > length || (end < length && this.topic.charCodeAt(end) !== 47) /* / */) return -1;
    return this.equals(pos, run) ? end + 1 : -1;
  }

  /** The text of level number `level`, which runs from `pos` to `end`. */
  text(level: number, pos: number, end: number): string {
    const stamps = this.textStamps;
    if (level < stamps.length && stamps[level] === this.stamp) return this.texts[level];
    const text = this.topic.slice(pos, end);
    // Filled in order of first use, which can skip levels: keep the arrays packed.
    while (stamps.length < level) {
      this.texts.push('');
      stamps.push(0);
    }
    this.texts[level] = text;
    stamps[level] = this.stamp;
    return text;
  }

  /** Whether the topic holds `key` at `pos` (which leaves room for it). */
  private equals(pos: number, key: string): boolean {
    const length = key.length;
    const topic = this.topic;
    // A character loop pays a check per character; a slice compared as a whole pays an
    // allocation once: the loop wins for short keys only.
    if (length > SHORT_KEY) return topic.slice(pos, pos + length) === key;
    for (let k = 0; k < length; k++) {
      if (topic.charCodeAt(pos + k) !== key.charCodeAt(k)) return false;
    }
    return true;
  }
}

/**
 * Collects the entries of the filters below `node` that match the topic from level number
 * `level`, which starts at `pos`, on.
 */
export function collect<T>(node: TopicNode<T>, walk: Walk<T>, level: number, pos: number): void {
  for (;;) {
    // A `#` below this node matches the remaining levels, including none (the parent level).
    if (node.hash !== undefined) collectSlot(node.hash, walk);
    if (pos > walk.length) {
      if (node.values !== undefined) collectSlot(node.values, walk);
      return;
    }
    const plus = node.plus;
    const child = node.literal(walk, level, pos);
    // The results are sorted at the end, so the order the branches are visited in is free.
    if (child !== undefined) {
      // Read before the `+` branch's walk overwrites them.
      const nextLevel = level + walk.stepLevels;
      const nextPos = walk.stepPos;
      if (plus !== undefined) {
        // After one literal level the `+` branch goes on where the literal one does.
        collect(plus, walk, level + 1, walk.stepLevels === 1 ? nextPos : walk.end(pos) + 1);
      }
      level = nextLevel;
      pos = nextPos;
      node = child;
    } else if (plus !== undefined) {
      pos = walk.end(pos) + 1;
      level++;
      node = plus;
    } else {
      return;
    }
  }
}

/**
 * Sorts the first `count` entries in place by registration order (insertion sort: no
 * comparator calls).
 */
export function sortBySeq<T>(entries: Entry<T>[], count: number): void {
  for (let i = 1; i < count; i++) {
    const entry = entries[i];
    let j = i - 1;
    while (j >= 0 && entries[j].seq > entry.seq) {
      entries[j + 1] = entries[j];
      j--;
    }
    entries[j + 1] = entry;
  }
}

/** Orders entries by registration, for `Array.prototype.sort` on large results. */
export function bySeq<T>(a: Entry<T>, b: Entry<T>): number {
  return a.seq - b.seq;
}

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
  /**
   * The level text of the only literal child, when there is exactly one (device topics share
   * long literal prefixes): it is compared in place, without slicing the level or hashing it.
   */
  onlyKey: string | undefined = undefined;
  onlyChild: TopicNode<T> | undefined = undefined;
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
   * The literal child for level `i` of the walk's topic. Consecutive topics often share a level
   * (`plant/line-1/dev1`, `plant/line-1/dev2`): it is compared in place with the last one looked
   * up before anything is sliced, hashed or looked up.
   */
  childAt(walk: Walk<T>, i: number): TopicNode<T> | undefined {
    if (this.onlyKey !== undefined) return walk.is(i, this.onlyKey) ? this.onlyChild : undefined;
    const children = this.children;
    if (children === undefined) return undefined;
    const memo = this.memoKey;
    if (memo !== undefined && walk.is(i, memo)) return this.memoChild;
    const head = walk.head(i);
    if (head >= 0 && head < 256 && (this.heads![head >>> 5] & (1 << (head & 31))) === 0) {
      return undefined;
    }
    const text = walk.text(i);
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

/**
 * The state of one `match` call, reused across calls: the topic is split in place (level ends
 * only, no `split`), and a level's text is sliced at most once, when a node with literal children
 * first needs it.
 */
export class Walk<T> {
  topic = '';
  /** Stamp of the current call, for `Entry.mark` and `textStamps`. */
  stamp = 0;
  /** Number of levels of the topic. */
  depth = 0;
  /** Index just past each level (of its `/` or of the topic's end). */
  readonly ends: number[] = [];
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
    this.stamp = stamp;
    this.found = 0;
    const ends = this.ends;
    let depth = 0;
    // A loop over the characters: inlined by the JIT, where `indexOf` would call out per level.
    const length = topic.length;
    for (let k = 0; k < length; k++) {
      if (topic.charCodeAt(k) === 47 /* / */) ends[depth++] = k;
    }
    ends[depth++] = length;
    this.depth = depth;
  }

  /** Whether level `i` is exactly `key`, compared in place. */
  is(i: number, key: string): boolean {
    const start = i === 0 ? 0 : this.ends[i - 1] + 1;
    const length = key.length;
    if (this.ends[i] - start !== length) return false;
    const topic = this.topic;
    for (let k = 0; k < length; k++) {
      if (topic.charCodeAt(start + k) !== key.charCodeAt(k)) return false;
    }
    return true;
  }

  /** The code of the first character of level `i`, or -1 when the level is empty. */
  head(i: number): number {
    const start = i === 0 ? 0 : this.ends[i - 1] + 1;
    return start < this.ends[i] ? this.topic.charCodeAt(start) : -1;
  }

  /** The text of level `i`. */
  text(i: number): string {
    if (i < this.textStamps.length && this.textStamps[i] === this.stamp) return this.texts[i];
    const text = this.topic.slice(i === 0 ? 0 : this.ends[i - 1] + 1, this.ends[i]);
    // Filled in order of first use, which can skip levels: keep the arrays packed.
    while (this.textStamps.length < i) {
      this.texts.push('');
      this.textStamps.push(0);
    }
    this.texts[i] = text;
    this.textStamps[i] = this.stamp;
    return text;
  }
}

/** Collects the entries of the filters below `node` that match the topic's levels from `i` on. */
export function collect<T>(node: TopicNode<T>, walk: Walk<T>, i: number): void {
  for (;;) {
    // A `#` below this node matches the remaining levels, including none (the parent level).
    if (node.hash !== undefined) collectSlot(node.hash, walk);
    if (i === walk.depth) {
      if (node.values !== undefined) collectSlot(node.values, walk);
      return;
    }
    const plus = node.plus;
    const child = node.childAt(walk, i);
    // The results are sorted at the end, so the order the branches are visited in is free.
    if (child !== undefined) {
      if (plus !== undefined) collect(plus, walk, i + 1);
      node = child;
    } else if (plus !== undefined) {
      node = plus;
    } else {
      return;
    }
    i++;
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

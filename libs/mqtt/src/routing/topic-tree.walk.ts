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

  /** Keeps `onlyKey` / `onlyChild` in step with `children`. */
  childrenChanged(): void {
    const children = this.children;
    if (children !== undefined && children.size === 1) {
      const [[key, child]] = children;
      this.onlyKey = key;
      this.onlyChild = child;
    } else {
      this.onlyKey = undefined;
      this.onlyChild = undefined;
    }
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
    const children = node.children;
    const plus = node.plus;
    let child: TopicNode<T> | undefined;
    if (node.onlyKey !== undefined) {
      if (walk.is(i, node.onlyKey)) child = node.onlyChild;
    } else if (children !== undefined) {
      child = children.get(walk.text(i));
    }
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

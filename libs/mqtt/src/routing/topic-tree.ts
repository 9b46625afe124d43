/**
 * A trie of MQTT topic filters for dispatching incoming messages: the cost of a lookup depends on
 * the depth of the topic and on the number of matching branches, not on the number of filters.
 */

/** One distinct value stored in a tree, shared by every filter it is registered under. */
interface Entry<T> {
  readonly value: T;
  /** Order of first registration; results are sorted by it. */
  readonly seq: number;
  /** Number of filters the value is registered under; the entry is dropped at zero. */
  refs: number;
  /** Stamp of the last `match` call that collected this entry (deduplication without a Set). */
  mark: number;
}

/** A level of the trie. Every field is always present so that all nodes share one shape. */
class TopicNode<T> {
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
function collectSlot<T>(slot: Entry<T>[], stamp: number, out: Entry<T>[]): void {
  for (let i = 0; i < slot.length; i++) {
    const entry = slot[i];
    if (entry.mark !== stamp) {
      entry.mark = stamp;
      out.push(entry);
    }
  }
}

/**
 * The state of one `match` call, reused across calls: the topic is split in place (level ends
 * only, no `split`), and a level's text is sliced at most once, when a node with literal children
 * first needs it.
 */
class Walk<T> {
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
  /** The entries collected so far. */
  readonly out: Entry<T>[] = [];

  /** Starts a call on `topic`. */
  begin(topic: string, stamp: number): void {
    this.topic = topic;
    this.stamp = stamp;
    const ends = this.ends;
    let depth = 0;
    let end = topic.indexOf('/');
    while (end !== -1) {
      ends[depth++] = end;
      end = topic.indexOf('/', end + 1);
    }
    ends[depth++] = topic.length;
    this.depth = depth;
  }

  /** Whether level `i` is exactly `key`, compared in place. */
  is(i: number, key: string): boolean {
    const start = i === 0 ? 0 : this.ends[i - 1] + 1;
    return this.ends[i] - start === key.length && this.topic.startsWith(key, start);
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
function collect<T>(node: TopicNode<T>, walk: Walk<T>, i: number): void {
  for (;;) {
    // A `#` below this node matches the remaining levels, including none (the parent level).
    if (node.hash !== undefined) collectSlot(node.hash, walk.stamp, walk.out);
    if (i === walk.depth) {
      if (node.values !== undefined) collectSlot(node.values, walk.stamp, walk.out);
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

/** Sorts a few entries in place by registration order (insertion sort: no comparator calls). */
function sortBySeq<T>(entries: Entry<T>[]): void {
  for (let i = 1; i < entries.length; i++) {
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
function bySeq<T>(a: Entry<T>, b: Entry<T>): number {
  return a.seq - b.seq;
}

/**
 * A set of (topic filter, value) pairs that finds, for a topic name, every value whose filter
 * matches it under the MQTT 3.1.1 / 5 rules: `+` matches exactly one level, possibly empty; `#`
 * matches its parent level and everything below; a topic whose first level starts with `$`
 * (`$SYS/…`) is matched only by filters whose first level is literal (`$SYS/#`); empty levels are
 * real levels (`a//b` ≠ `a/b`, `/a` starts with the level `''`).
 *
 * Filters are stored as a trie of levels with literal children in a `Map` and dedicated `+` and
 * `#` slots, so a lookup visits only the branches that can match.
 *
 * @typeParam T the stored values, compared by identity (`SameValueZero`, as in a `Map`)
 */
export class TopicTree<T> {
  private root = new TopicNode<T>();
  /** Stored filter → the slot (a node's `values` or `hash` array) holding its entries. */
  private readonly slots = new Map<string, Entry<T>[]>();
  /** Stored value → its entry. */
  private readonly entries = new Map<T, Entry<T>>();
  /** Reused state of `match`. */
  private readonly walk = new Walk<T>();
  private nextSeq = 0;
  private stamp = 0;
  private count = 0;

  /** Number of stored (filter, value) pairs. */
  get size(): number {
    return this.count;
  }

  /**
   * Stores `value` under `matchFilter`. Adding the same value under the same filter again does
   * nothing.
   *
   * @param matchFilter a valid MQTT topic filter without a `$share/<group>/` prefix (not checked)
   * @param value the value `match` returns for topics matching the filter
   */
  add(matchFilter: string, value: T): void {
    let slot = this.slots.get(matchFilter);
    let entry = this.entries.get(value);
    if (slot !== undefined && entry !== undefined && slot.includes(entry)) return;
    if (slot === undefined) {
      slot = this.createSlot(matchFilter);
      this.slots.set(matchFilter, slot);
    }
    if (entry === undefined) {
      entry = { value, seq: this.nextSeq++, refs: 0, mark: 0 };
      this.entries.set(value, entry);
    }
    entry.refs++;
    slot.push(entry);
    this.count++;
  }

  /**
   * Removes `value` from under `matchFilter`, pruning the nodes left empty.
   *
   * @param matchFilter the filter the value was added under
   * @param value the value to remove
   * @returns whether the pair was stored
   */
  remove(matchFilter: string, value: T): boolean {
    const slot = this.slots.get(matchFilter);
    const entry = this.entries.get(value);
    if (slot === undefined || entry === undefined) return false;
    const index = slot.indexOf(entry);
    if (index === -1) return false;
    slot.splice(index, 1);
    this.count--;
    if (--entry.refs === 0) this.entries.delete(value);
    if (slot.length === 0) {
      this.slots.delete(matchFilter);
      this.deleteSlot(matchFilter);
    }
    return true;
  }

  /**
   * Every value whose filter matches `topic`, each value once even when several of its filters
   * match, in the order the values were first added.
   *
   * @param topic a topic name (not checked)
   * @returns a new array of the matching values, empty when none match
   */
  match(topic: string): T[] {
    const walk = this.walk;
    const out = walk.out;
    walk.begin(topic, ++this.stamp);
    if (topic.charCodeAt(0) === 36 /* $ */) {
      // `+` and `#` at the first level never match a `$` topic: only the literal branch can.
      const children = this.root.children;
      const child = children === undefined ? undefined : children.get(walk.text(0));
      if (child !== undefined) collect(child, walk, 1);
    } else {
      collect(this.root, walk, 0);
    }
    const n = out.length;
    if (n === 0) return [];
    if (n === 1) {
      const only = out[0].value;
      out.length = 0;
      return [only];
    }
    if (n <= 16) sortBySeq(out);
    else out.sort(bySeq);
    const result = new Array<T>(n);
    for (let i = 0; i < n; i++) result[i] = out[i].value;
    out.length = 0;
    return result;
  }

  /**
   * The stored filters, each once, in the order they were first added.
   *
   * @returns a new array of filters
   */
  filters(): string[] {
    return [...this.slots.keys()];
  }

  /** Removes every filter and value. */
  clear(): void {
    this.root = new TopicNode<T>();
    this.slots.clear();
    this.entries.clear();
    this.count = 0;
  }

  /** Creates the path of `filter` and returns its (new, empty) slot. */
  private createSlot(filter: string): Entry<T>[] {
    const levels = filter.split('/');
    let node = this.root;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i];
      if (level === '#') {
        // `#` is always the last level of a valid filter.
        return (node.hash = []);
      }
      let next: TopicNode<T> | undefined;
      if (level === '+') {
        next = node.plus ??= new TopicNode<T>();
      } else {
        const children = (node.children ??= new Map());
        next = children.get(level);
        if (next === undefined) {
          next = new TopicNode<T>();
          children.set(level, next);
          node.childrenChanged();
        }
      }
      node = next;
    }
    return (node.values = []);
  }

  /** Detaches the (now empty) slot of `filter` and prunes the nodes left empty. */
  private deleteSlot(filter: string): void {
    const levels = filter.split('/');
    const path: TopicNode<T>[] = [this.root];
    let node = this.root;
    let depth = levels.length;
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i];
      if (level === '#') {
        node.hash = undefined;
        depth = i;
        break;
      }
      const next = level === '+' ? node.plus : node.children?.get(level);
      if (next === undefined) return;
      node = next;
      path.push(node);
    }
    if (depth === levels.length) node.values = undefined;
    // path[i] is the node reached after `i` levels; unlink empty nodes bottom-up.
    for (let i = path.length - 1; i > 0 && path[i].isEmpty(); i--) {
      const parent = path[i - 1];
      const level = levels[i - 1];
      if (level === '+') {
        parent.plus = undefined;
      } else if (parent.children !== undefined) {
        parent.children.delete(level);
        if (parent.children.size === 0) parent.children = undefined;
        parent.childrenChanged();
      }
    }
  }
}

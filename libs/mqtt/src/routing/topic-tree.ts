/**
 * A trie of MQTT topic filters for dispatching incoming messages: the cost of a lookup depends on
 * the depth of the topic and on the number of matching branches, not on the number of filters.
 */

import { bySeq, collect, sortBySeq, TopicNode, Walk, type Entry } from './topic-tree.walk';

/**
 * The result of every lookup that finds nothing. Shared, typed read-only but not frozen: a frozen
 * array's elements are slower to read in the hot path (measured: ~0.1 µs per message).
 */
const NONE: readonly never[] = [];

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
      const levels = matchFilter.split('/');
      slot = this.createSlot(levels);
      this.slots.set(matchFilter, slot);
      this.refreshRuns(levels);
    }
    if (entry === undefined) {
      entry = { value, seq: this.nextSeq++, refs: 0, mark: 0, alone: [value] };
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
    if (--entry.refs === 0) {
      this.entries.delete(value);
      // The walk keeps its last results: let go of the removed value.
      this.walk.out.length = 0;
    }
    if (slot.length === 0) {
      this.slots.delete(matchFilter);
      const levels = matchFilter.split('/');
      this.deleteSlot(levels);
      this.refreshRuns(levels);
    }
    return true;
  }

  /**
   * Every value whose filter matches `topic`, each value once even when several of its filters
   * match, in the order the values were first added.
   *
   * @param topic a topic name (not checked)
   * @returns the matching values: a new array when several match; when none or one does, a
   *   shared array (read it, never change it)
   */
  match(topic: string): readonly T[] {
    const walk = this.walk;
    const out = walk.out;
    walk.begin(topic, ++this.stamp);
    if (topic.charCodeAt(0) === 36 /* $ */) {
      // `+` and `#` at the first level never match a `$` topic: only the literal branch can.
      const child = this.root.literal(walk, 0, 0);
      if (child !== undefined) collect(child, walk, walk.stepLevels, walk.stepPos);
    } else {
      collect(this.root, walk, 0, 0);
    }
    const n = walk.found;
    if (n === 0) return NONE;
    if (n === 1) return out[0].alone;
    const found = n <= 16 ? out : out.slice(0, n);
    if (n <= 16) sortBySeq(found, n);
    else found.sort(bySeq);
    const result = new Array<T>(n);
    for (let i = 0; i < n; i++) result[i] = found[i].value;
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
    this.walk.out.length = 0;
    this.count = 0;
  }

  /** Creates the path of a filter (its `levels`) and returns its (new, empty) slot. */
  private createSlot(levels: readonly string[]): Entry<T>[] {
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
          node.childrenChanged(level);
        }
      }
      node = next;
    }
    return (node.values = []);
  }

  /**
   * Recomputes the runs (`TopicNode.run`) of the nodes on the path of a filter (its `levels`), just
   * added or removed: only their runs can pass through a node that changed.
   */
  private refreshRuns(levels: readonly string[]): void {
    let node: TopicNode<T> | undefined = this.root;
    for (let i = 0; node !== undefined; i++) {
      node.updateRun();
      if (i === levels.length) return;
      const level = levels[i];
      node = level === '+' ? node.plus : level === '#' ? undefined : node.children?.get(level);
    }
  }

  /** Detaches the (now empty) slot of a filter (its `levels`) and prunes the nodes left empty. */
  private deleteSlot(levels: readonly string[]): void {
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

/**
 * MQTT 3.1.1 / 5 topic names and topic filters: validation, shared subscriptions, the named
 * wildcard parameters of our decorator syntax (`sensors/+deviceId/temp`, `logs/#path`) and a
 * reference implementation of topic matching.
 *
 * Pure functions without dependencies; `topicNameProblem` runs on every publish and is kept cheap.
 */

/** The largest topic name or topic filter MQTT can carry: a UTF-8 string of at most 65535 bytes. */
export const MQTT_MAX_TOPIC_BYTES = 65535;

/** Prefix of an MQTT 5 shared subscription: `$share/<group>/<filter>`. */
const SHARE_PREFIX = '$share/';

/** Valid name of a named wildcard parameter (`+name`, `#name`). */
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A frozen empty result returned by `extractTopicParams` for filters without named parameters. */

/**
 * A string holding a lone UTF-16 surrogate cannot be encoded as UTF-8 (Node would silently send
 * U+FFFD instead), and MQTT forbids the code points U+D800..U+DFFF.
 */
const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/**
 * The common string rules of topic names and filters: no NUL, well-formed UTF-16, at most
 * 65535 bytes of UTF-8. A UTF-16 code unit never takes more than 3 bytes, so short strings skip
 * the byte count.
 */
function encodingProblem(s: string): string | undefined {
  if (s.indexOf('\0') !== -1) return 'contains a NUL character';
  if (!isWellFormed(s)) return 'contains an unpaired UTF-16 surrogate, which UTF-8 cannot encode';
  if (s.length * 3 > MQTT_MAX_TOPIC_BYTES) {
    const bytes = Buffer.byteLength(s, 'utf8');
    if (bytes > MQTT_MAX_TOPIC_BYTES) {
      return `is ${bytes} bytes long; the limit is ${MQTT_MAX_TOPIC_BYTES} bytes (UTF-8)`;
    }
  }
  return undefined;
}

/**
 * Why `topic` is not a valid MQTT topic name to publish to, or `undefined` when it is.
 *
 * A topic name is a non-empty UTF-8 string of at most 65535 bytes without wildcards (`+`, `#`)
 * and without NUL characters. Empty levels (`a//b`, `/a`) and a leading `$` are legal.
 *
 * @param topic the value to check (anything, so that untyped input is reported, not thrown on)
 * @returns a short human reason such as `'is empty'`, or `undefined` when the topic is valid
 */
export function topicNameProblem(topic: unknown): string | undefined {
  if (typeof topic !== 'string') return 'must be a string';
  if (topic.length === 0) return 'is empty';
  if (topic.indexOf('+') !== -1) {
    return 'contains the wildcard "+"; wildcards are only allowed in subscriptions';
  }
  if (topic.indexOf('#') !== -1) {
    return 'contains the wildcard "#"; wildcards are only allowed in subscriptions';
  }
  return encodingProblem(topic);
}

/**
 * Why `group` is not a valid MQTT 5 shared subscription group name (the `<group>` of
 * `$share/<group>/<filter>`), or `undefined` when it is. A group name is non-empty and contains
 * no `/`, `+` or `#`; any other character (`-`, `.`, `:`…) is legal.
 *
 * @param group the value to check
 * @returns a short human reason, or `undefined` when the group name is valid
 */
export function shareGroupProblem(group: unknown): string | undefined {
  if (typeof group !== 'string') return 'the shared subscription group name must be a string';
  if (group.length === 0) return 'the shared subscription group name is empty';
  for (const c of ['/', '+', '#']) {
    if (group.indexOf(c) !== -1) {
      return `the shared subscription group name "${group}" must not contain "${c}"`;
    }
  }
  return encodingProblem(group);
}

/**
 * Splits `$share/<group>/<rest>` into group and rest (returning a reason when the shape or the
 * group is invalid), or returns `undefined` when `filter` is not a shared subscription.
 */
function splitShare(
  filter: string,
): { group: string; rest: string; problem?: undefined } | { problem: string } | undefined {
  if (!filter.startsWith(SHARE_PREFIX)) return undefined;
  const slash = filter.indexOf('/', SHARE_PREFIX.length);
  const group = filter.slice(SHARE_PREFIX.length, slash === -1 ? undefined : slash);
  const groupProblem = shareGroupProblem(group);
  if (groupProblem !== undefined) return { problem: groupProblem };
  const rest = slash === -1 ? '' : filter.slice(slash + 1);
  if (rest.length === 0) {
    return {
      problem:
        'a shared subscription needs a topic filter after its group (as in "$share/group/a/#")',
    };
  }
  return { group, rest };
}

/** Wildcard placement rules of a plain filter, checked in a single pass over its characters. */
function wildcardProblem(filter: string): string | undefined {
  const last = filter.length - 1;
  let levelStart = 0;
  for (let i = 0; i <= last; i++) {
    const c = filter.charCodeAt(i);
    if (c === 47 /* / */) {
      levelStart = i + 1;
    } else if (c === 43 /* + */) {
      if (i !== levelStart || (i !== last && filter.charCodeAt(i + 1) !== 47)) {
        return '"+" must occupy a whole level (as in "a/+/b"), not be part of one';
      }
    } else if (c === 35 /* # */) {
      if (i !== levelStart || i !== last) {
        return '"#" must be the last level, on its own (as in "a/#")';
      }
    }
  }
  return undefined;
}

/**
 * Why `filter` is not a valid MQTT topic filter to subscribe to, or `undefined` when it is.
 *
 * Rules (MQTT 3.1.1 §4.7, MQTT 5 §4.7–4.8): non-empty; `#` only as the whole last level (`#`,
 * `a/#`); `+` only as a whole level (`+`, `a/+/b`, `+/+`); no NUL; at most 65535 bytes of UTF-8.
 * A shared subscription `$share/<group>/<filter>` needs a valid group name and a non-empty filter.
 * Named parameters (`+name`) are NOT plain MQTT and are rejected here; see {@link parseFilter}.
 *
 * @param filter the topic filter, exactly as it would be sent to the broker
 * @returns a short human reason, or `undefined` when the filter is valid
 */
export function topicFilterProblem(filter: string): string | undefined {
  if (typeof filter !== 'string') return 'must be a string';
  if (filter.length === 0) return 'is empty';
  const share = splitShare(filter);
  if (share?.problem !== undefined) return share.problem;
  return wildcardProblem(share ? share.rest : filter) ?? encodingProblem(filter);
}

/** A named wildcard of a parsed filter: the value the wildcard matched is exposed as `name`. */
export interface TopicParam {
  /** Parameter name, matching `/^[A-Za-z_][A-Za-z0-9_]*$/`. */
  name: string;
  /** Zero-based index of the level in the match filter (i.e. in the topic) the wildcard sits at. */
  level: number;
  /** `+` (exactly one level) or `#` (this level and everything below it, possibly nothing). */
  wildcard: '+' | '#';
  /**
   * Where the level starts in every matching topic (a character index), when every level before
   * it is literal (`sensors/+id` → 8); absent after another wildcard.
   */
  offset?: number;
}

/** A topic filter written in our decorator syntax, validated and split into its parts. */
export interface ParsedFilter {
  /** The filter as written, e.g. `$share/g/sensors/+deviceId/temp`. */
  raw: string;
  /** The MQTT filter to send to the broker: names removed, `$share/<group>/` kept. */
  filter: string;
  /** What matching uses: names removed and `$share/<group>/` removed, e.g. `sensors/+/temp`. */
  matchFilter: string;
  /** The shared subscription group, when the filter is `$share/<group>/…`. */
  share?: string;
  /** The named wildcards, in level order. */
  params: TopicParam[];
}

/** Builds the error thrown by `parseFilter` and `sharedFilter`; `reason` is the bare problem. */
function invalidFilter(raw: string, reason: string): Error & { reason: string } {
  return Object.assign(new Error(`Invalid MQTT topic filter "${raw}": ${reason}`), { reason });
}

/** What is wrong with a filter, from an error of `parseFilter`, without repeating the filter. */
export function filterErrorReason(error: unknown): string {
  const reason = (error as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' ? reason : (error as Error).message;
}

/**
 * Validates a topic filter in our decorator syntax and splits it into the filter sent to the
 * broker, the filter used for matching, the shared subscription group and the named parameters.
 *
 * Besides plain MQTT filters, a level may be `+name` or `#name`: the wildcard `+` / `#` whose
 * matched value is exposed under `name` (`/^[A-Za-z_][A-Za-z0-9_]*$/`, unique within the filter,
 * `__proto__` excluded). Thus `a/+x` is a named parameter here although `topicFilterProblem`
 * rejects it as plain MQTT, while `a/x+` and `a/b#` are invalid in both.
 *
 * @example parseFilter('sensors/+deviceId/temp')
 * // → { filter: 'sensors/+/temp', matchFilter: 'sensors/+/temp',
 * //     params: [{ name: 'deviceId', level: 1, wildcard: '+' }], … }
 * @example parseFilter('$share/g-1/a/+id')
 * // → { filter: '$share/g-1/a/+', matchFilter: 'a/+', share: 'g-1', … }
 * @param raw the filter as written in a decorator or configuration
 * @returns the parsed filter
 * @throws Error whose message quotes the filter and says what is wrong with it
 */
export function parseFilter(raw: string): ParsedFilter {
  if (typeof raw !== 'string')
    throw Object.assign(new Error(`Invalid MQTT topic filter ${String(raw)}: must be a string`), {
      reason: 'must be a string',
    });
  if (raw.length === 0) throw invalidFilter(raw, 'is empty');
  const share = splitShare(raw);
  if (share?.problem !== undefined) throw invalidFilter(raw, share.problem);
  const body = share ? share.rest : raw;

  const levels = body.split('/');
  const params: TopicParam[] = [];
  // Where the current level starts in every matching topic, while all levels before it are
  // literal; undefined after the first wildcard.
  let offset: number | undefined = 0;
  for (let level = 0; level < levels.length; level++) {
    const text = levels[level];
    const first = text.charAt(0);
    const levelOffset = offset;
    offset = offset === undefined ? undefined : offset + text.length + 1;
    if (first === '+' || first === '#') {
      offset = undefined;
      if (first === '#' && level !== levels.length - 1) {
        throw invalidFilter(
          raw,
          text === '#'
            ? '"#" must be the last level, on its own (as in "a/#")'
            : `"${text}" must be the last level: "#" matches everything below it`,
        );
      }
      if (text.length === 1) continue;
      const name = text.slice(1);
      if (!PARAM_NAME.test(name)) {
        throw invalidFilter(
          raw,
          `level "${text}" is neither "${first}" nor a named parameter "${first}name" ` +
            '(names match /^[A-Za-z_][A-Za-z0-9_]*$/)',
        );
      }
      if (name === '__proto__') {
        throw invalidFilter(raw, 'the parameter name "__proto__" is reserved');
      }
      if (params.some((p) => p.name === name)) {
        throw invalidFilter(raw, `the parameter name "${name}" is used more than once`);
      }
      params.push(
        levelOffset === undefined
          ? { name, level, wildcard: first }
          : { name, level, wildcard: first, offset: levelOffset },
      );
      levels[level] = first;
    } else if (text.indexOf('+') !== -1) {
      throw invalidFilter(
        raw,
        `level "${text}" contains "+"; "+" must occupy a whole level (as in "a/+/b")`,
      );
    } else if (text.indexOf('#') !== -1) {
      throw invalidFilter(
        raw,
        `level "${text}" contains "#"; "#" must be the last level, on its own (as in "a/#")`,
      );
    }
  }

  const matchFilter = params.length === 0 ? body : levels.join('/');
  const filter = share ? `${SHARE_PREFIX}${share.group}/${matchFilter}` : matchFilter;
  const problem = topicFilterProblem(filter);
  if (problem !== undefined) throw invalidFilter(raw, problem);
  const parsed: ParsedFilter = { raw, filter, matchFilter, params };
  if (share) parsed.share = share.group;
  return parsed;
}

/**
 * The MQTT 5 shared subscription filter `$share/<group>/<filter>`.
 *
 * Only the group and the presence of a filter are checked here: `filter` may still use the
 * named parameters of {@link parseFilter}, which validates the combined result.
 *
 * @param filter a non-empty topic filter
 * @param group the share group name: non-empty, without `/`, `+` or `#`
 * @returns `$share/${group}/${filter}`
 * @throws Error naming the problem when the group or the filter is invalid
 */
export function sharedFilter(filter: string, group: string): string {
  const problem = shareGroupProblem(group);
  if (problem !== undefined) {
    throw new Error(`Invalid shared subscription for "${String(filter)}": ${problem}`);
  }
  if (typeof filter !== 'string' || filter.length === 0) {
    throw new Error(`Invalid shared subscription in group "${group}": the topic filter is empty`);
  }
  return `${SHARE_PREFIX}${group}/${filter}`;
}

/**
 * Whether the topic name `topic` matches the topic filter `filter` under the MQTT rules: `+`
 * matches exactly one level, possibly empty; `#` matches its parent level and every level below;
 * a topic whose first level starts with `$` is not matched by a filter starting with `+` or `#`;
 * empty levels are real levels (`a//b` ≠ `a/b`). A `$share/<group>/` prefix is ignored.
 *
 * A simple reference implementation (it splits both strings); use `TopicTree` on hot paths.
 *
 * @param filter a valid topic filter
 * @param topic a valid topic name
 * @returns `true` when a subscription to `filter` receives messages published to `topic`
 */
export function topicMatches(filter: string, topic: string): boolean {
  const share = splitShare(filter);
  const f = (share && share.problem === undefined ? share.rest : filter).split('/');
  const t = topic.split('/');
  if (topic.charCodeAt(0) === 36 /* $ */ && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * The values of a filter's named wildcards (`+deviceId`, `#path`) in a matching topic: the whole
 * record, or one value without building it.
 */
import type { ParsedFilter } from './topic.utils';

const NO_PARAMS: Record<string, string> = Object.freeze({});

/**
 * The values of the named parameters of `parsed` for a topic that matches `parsed.matchFilter`
 * (the match itself is not checked). A `+name` gives the text of its level (possibly `''`); a
 * `#name` gives the rest of the topic from its level on, joined with `/`, or `''` when the `#`
 * matched the parent level only (`logs/#path` with topic `logs`).
 *
 * @param parsed a filter from {@link parseFilter}
 * @param topic a topic name matching `parsed.matchFilter`
 * @returns parameter name → value; a shared frozen empty object when the filter has no names
 */
export function extractTopicParams(parsed: ParsedFilter, topic: string): Record<string, string> {
  const params = parsed.params;
  if (params.length === 0) return NO_PARAMS;
  const values: Record<string, string> = {};
  // `start` is the offset of level `level` in the topic, or past the end when there is no such level.
  let level = 0;
  let start = 0;
  for (const param of params) {
    while (level < param.level && start <= topic.length) {
      const slash = topic.indexOf('/', start);
      start = slash === -1 ? topic.length + 1 : slash + 1;
      level++;
    }
    if (start > topic.length) {
      values[param.name] = '';
    } else if (param.wildcard === '#') {
      values[param.name] = topic.slice(start);
    } else {
      const end = topic.indexOf('/', start);
      values[param.name] = end === -1 ? topic.slice(start) : topic.slice(start, end);
    }
  }
  return values;
}

/**
 * The value of one named wildcard of `parsed` in `topic`, as `extractTopicParams` gives it,
 * without building the whole record.
 *
 * @param parsed a parsed filter that matches `topic`
 * @param topic the topic name
 * @param name the parameter's name
 * @returns its value, or undefined when the filter has no parameter of that name
 */
export function topicParam(parsed: ParsedFilter, topic: string, name: string): string | undefined {
  const params = parsed.params;
  for (let i = 0; i < params.length; i++) {
    const param = params[i];
    if (param.name !== name) continue;
    // Character loops rather than `indexOf`: the JIT inlines them (a lookup per message).
    const length = topic.length;
    let start = 0;
    for (let level = 0; level < param.level; start++) {
      if (start >= length) return '';
      if (topic.charCodeAt(start) === 47 /* / */) level++;
    }
    if (param.wildcard === '#') return topic.slice(start);
    let end = start;
    while (end < length && topic.charCodeAt(end) !== 47 /* / */) end++;
    return topic.slice(start, end);
  }
  return undefined;
}

/**
 * The values of a filter's named wildcards (`+deviceId`, `#path`) in a matching topic: the whole
 * record, or one value without building it.
 */
import type { ParsedFilter, TopicParam } from './topic.utils';

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
  for (const param of params) values[param.name] = paramValue(param, topic);
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
    if (params[i].name === name) return paramValue(params[i], topic);
  }
  return undefined;
}

/** The text of `param`'s level (`#`: from its level on) in `topic`; `''` past the last level. */
function paramValue(param: TopicParam, topic: string): string {
  // `indexOf` rather than a loop over the characters: it scans in native code, where a loop
  // pays a check per character (device topics are long).
  const start = param.offset ?? levelStart(topic, param.level);
  if (start < 0 || start > topic.length) return '';
  if (param.wildcard === '#') return topic.slice(start);
  const end = topic.indexOf('/', start);
  return topic.slice(start, end < 0 ? topic.length : end);
}

/** Where level number `level` of `topic` starts, or -1 when the topic has fewer levels. */
function levelStart(topic: string, level: number): number {
  let start = 0;
  for (let i = 0; i < level; i++) {
    const slash = topic.indexOf('/', start);
    if (slash < 0) return -1;
    start = slash + 1;
  }
  return start;
}

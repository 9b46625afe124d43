import { ValidationPipe } from '@nestjs/common';
import { MqttParamType, type MqttArgsMetadata } from '../decorators/params.decorator';
import type { MqttSubscribeMetadata } from '../decorators/subscribe.decorator';
import { MqttSubscribeError } from '../errors/mqtt-subscribe.error';
import * as messages from '../mqtt.messages';
import { filterErrorReason, parseFilter } from '../routing/topic.utils';
import type { HandlerPlan } from './handler-invoker';

/**
 * Checks a handler's named wildcards against its `@TopicParam()`s, at bootstrap: a wildcard
 * nobody reads (how the typo `a/+x` for `a/+/x` shows) and a parameter no filter names are
 * errors naming the handler.
 */
export function checkTopicParams(
  name: string,
  subscribes: readonly MqttSubscribeMetadata[],
  args: MqttArgsMetadata,
): void {
  const keys = Object.keys(args);
  const readsAll = keys.some(
    (k) =>
      k.startsWith(`${MqttParamType.TOPIC_PARAMS}:`) || k.startsWith(`${MqttParamType.MESSAGE}:`),
  );
  const read = new Set(
    keys
      .filter((k) => k.startsWith(`${MqttParamType.TOPIC_PARAM}:`))
      .map((k) => args[k].data)
      .filter((d): d is string => d !== undefined),
  );
  const named = new Set<string>();
  for (const { filters } of subscribes) {
    for (const filter of filters) {
      let params;
      try {
        params = parseFilter(filter).params;
      } catch (error) {
        throw new MqttSubscribeError(
          messages.INVALID_FILTER(name, filter, filterErrorReason(error)),
        );
      }
      for (const p of params) {
        named.add(p.name);
        if (!readsAll && !read.has(p.name)) {
          throw new MqttSubscribeError(messages.UNUSED_TOPIC_PARAM(name, filter, p.name));
        }
      }
    }
  }
  for (const param of read) {
    if (!named.has(param)) throw new MqttSubscribeError(messages.PARAM_NOT_IN_FILTER(name, param));
  }
}

/**
 * Whether a handler's whole `@Payload()` has no declared type (the build emitted no decorator
 * metadata: tsx, esbuild) where the type matters: with no pipe on the payload the module decodes
 * and validates by that type; with pipes, a `ValidationPipe` without `expectedType` needs it
 * (Nest's own rule for its handlers).
 */
export function payloadTypeMissing(plan: HandlerPlan): boolean {
  // The parameter handlerPlan decodes by: the first @Payload(), when it takes the whole payload.
  const payload = plan.params.find((p) => p.type === MqttParamType.PAYLOAD);
  if (!payload || payload.data !== undefined || payload.metatype !== undefined) return false;
  const pipes = [...plan.pipes, ...payload.pipes];
  if (pipes.length === 0) return true;
  return pipes.some(
    (pipe) =>
      pipe instanceof ValidationPipe &&
      !(pipe as unknown as { expectedType?: unknown }).expectedType,
  );
}

/**
 * devices: the real IoT shape. Every message of a drain comes from a different device
 * (`…/dev<N>/data`, BENCH_TOPICS of them), so no cache of topic lookups can help; the handler
 * needs the device id: `@TopicParam('id')` on `…/+id/data` in the module, `topic.split('/')` on
 * raw MQTT.js, `context.getTopic().split('/')` in the Nest transport. With no and with 10,000
 * other wildcard subscriptions; the Nest transport only without them (with 10,000 patterns it
 * drains ~100 msg/s, see the scale scenario, and would take a minute for nothing new).
 */
import type { BenchContext } from '../context';
import { groupLabel, RECEIVERS, runReceiveGroup } from '../receive-group';

export async function devices(ctx: BenchContext): Promise<void> {
  const topics = ctx.config.deviceTopics;
  for (const others of ctx.config.deviceOthers) {
    await runReceiveGroup(ctx, {
      scenario: 'devices',
      group: `q0-o${others}-t${topics}`,
      label: `${groupLabel(0, others)}, ${topics.toLocaleString('en-US')} device topics`,
      qos: 0,
      others,
      shape: 'device',
      topics,
      contestants: others > 0 ? RECEIVERS.filter((c) => c.id !== 'nest') : RECEIVERS,
    });
  }
}

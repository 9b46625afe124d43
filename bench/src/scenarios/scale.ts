/**
 * scale: the receive measurement (QoS 0) with BENCH_SIZES other wildcard subscriptions that never
 * match the measured topic, subscribed at the broker by every contestant.
 */
import type { BenchContext } from '../context';
import { groupLabel, RECEIVERS, runReceiveGroup } from '../receive-group';

export async function scale(ctx: BenchContext): Promise<void> {
  for (const others of ctx.config.scaleSizes) {
    await runReceiveGroup(ctx, {
      scenario: 'scale',
      group: `q0-o${others}`,
      label: groupLabel(0, others),
      qos: 0,
      others,
      shape: 'count',
      contestants: RECEIVERS,
    });
  }
}

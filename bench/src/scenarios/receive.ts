/**
 * receive: draining queued messages through one `+` handler that counts them, QoS 0 and QoS 1,
 * raw MQTT.js against nestjs-mqtt against the Nest transport.
 */
import type { BenchContext } from '../context';
import { groupLabel, RECEIVERS, runReceiveGroup } from '../receive-group';

export async function receive(ctx: BenchContext): Promise<void> {
  for (const qos of [0, 1] as const) {
    await runReceiveGroup(ctx, {
      scenario: 'receive',
      group: `q${qos}-o0`,
      label: groupLabel(qos, 0),
      qos,
      others: 0,
      shape: 'count',
      contestants: RECEIVERS,
    });
  }
}

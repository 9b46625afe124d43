/**
 * dto: a handler taking a validated class DTO (`@Payload() dto: ReadingDto`, class-validator
 * decorators), QoS 0, against the same libraries wired by hand on raw MQTT.js (JSON.parse +
 * class-transformer plainToInstance + class-validator validateSync) and against the Nest
 * transport with a global ValidationPipe.
 */
import type { BenchContext } from '../context';
import { runReceiveGroup } from '../receive-group';

export async function dto(ctx: BenchContext): Promise<void> {
  await runReceiveGroup(ctx, {
    scenario: 'dto',
    group: 'q0-o0',
    label: 'QoS 0, validated class DTO',
    qos: 0,
    others: 0,
    shape: 'dto',
    contestants: [
      { id: 'raw', name: 'raw MQTT.js + class-validator' },
      { id: 'module', name: 'nestjs-mqtt' },
      { id: 'nest', name: 'Nest transport + ValidationPipe' },
    ],
  });
}

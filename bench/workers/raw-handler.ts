/**
 * The measured handlers of the raw MQTT.js contestants: the work of each shape
 * (shared.HandlerShape), wired by hand. Used by the receiver and by the instruction counts.
 */
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { HandlerShape } from '../src/shared';
import { wildcardLevel } from './apps';
import type { MessageSink } from './drain-counter';
import { ReadingDto } from './reading.dto';

export type RawHandler = (topic: string, payload: Buffer) => void;

/** The raw MQTT.js handler of one shape: the same work, wired by hand. */
export function rawHandler(shape: HandlerShape, filter: string, sink: MessageSink): RawHandler {
  switch (shape) {
    case 'device': {
      const level = wildcardLevel(filter);
      return (topic) => sink.device(topic.split('/')[level]);
    }
    case 'dto':
      // What the module does for `@Payload() dto: ReadingDto`: JSON, class-transformer,
      // class-validator with the same options.
      return (_topic, payload) => {
        const dto = plainToInstance(ReadingDto, JSON.parse(payload.toString('utf8')) as object);
        const errors = validateSync(dto, { forbidUnknownValues: false });
        sink.reading(errors.length === 0 ? dto : undefined);
      };
    default:
      return () => sink.hit();
  }
}

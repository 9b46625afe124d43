import { ParseIntPipe, ValidationPipe, type PipeTransform } from '@nestjs/common';
import { MqttParamType } from '../decorators/params.decorator';
import { payloadTypeMissing } from './handler-checks';
import type { ParamPlan } from './handler-args';
import type { HandlerPlan } from './handler-invoker';

class ReadingDto {}

function plan(param: Partial<ParamPlan> | undefined, pipes: PipeTransform[] = []): HandlerPlan {
  const params: ParamPlan[] = param
    ? [
        {
          index: 0,
          type: MqttParamType.PAYLOAD,
          data: undefined,
          metatype: undefined,
          pipes: [],
          ...param,
        },
      ]
    : [];
  return { params, pipes } as unknown as HandlerPlan;
}

describe('payloadTypeMissing (a build without decorator metadata)', () => {
  it('is false when the payload has its declared type, or there is no whole @Payload()', () => {
    expect(payloadTypeMissing(plan({ metatype: ReadingDto }))).toBe(false);
    expect(payloadTypeMissing(plan({ metatype: Object }))).toBe(false);
    expect(payloadTypeMissing(plan(undefined))).toBe(false);
    expect(payloadTypeMissing(plan({ data: 'celsius' }))).toBe(false);
    expect(payloadTypeMissing(plan({ type: MqttParamType.TOPIC }))).toBe(false);
  });

  it('is true when no pipe applies: the module decodes and validates by that type', () => {
    expect(payloadTypeMissing(plan({}))).toBe(true);
  });

  it('with pipes, only a ValidationPipe without expectedType needs the type (as Nest warns)', () => {
    expect(payloadTypeMissing(plan({}, [new ValidationPipe()]))).toBe(true);
    expect(payloadTypeMissing(plan({ pipes: [new ValidationPipe()] }))).toBe(true);
    const typed = new ValidationPipe({ expectedType: ReadingDto });
    expect(payloadTypeMissing(plan({ pipes: [typed] }))).toBe(false);
    expect(payloadTypeMissing(plan({}, [new ParseIntPipe()]))).toBe(false);
  });
});

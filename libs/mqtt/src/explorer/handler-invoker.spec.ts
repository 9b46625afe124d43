import {
  Catch,
  ForbiddenException,
  Injectable,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type ArgumentMetadata,
  type ArgumentsHost,
  type CallHandler,
  type ExceptionFilter,
  type ExecutionContext,
  type PipeTransform,
} from '@nestjs/common';
import { of, tap } from 'rxjs';
import {
  Message,
  MessageProperties,
  Packet,
  Payload,
  Topic,
  TopicParam,
  TopicParams,
  UserProperties,
} from '../decorators/params.decorator';
import { MQTT_ARGS_METADATA } from '../mqtt.constants';
import { MqttContext } from '../mqtt.context';
import { argsResolver } from './handler-args';
import { createInvoker } from './handler-invoker';
import { invokersOf, message, type Invokers } from './handler-invoker.spec-helpers';
import { nestConsumers } from './nest.internals';

/** What the enhancers and handlers of one test saw, in order. */
const trail: string[] = [];

const allow = { canActivate: () => (trail.push('guard'), true) };
const deny = { canActivate: () => (trail.push('guard'), false) };
const recordResult = {
  intercept: (_c: ExecutionContext, next: CallHandler) => {
    trail.push('before');
    return next.handle().pipe(tap((result) => trail.push(`after ${String(result)}`)));
  },
};
/** Records what each pipe call was told, as `type data metatype`. */
const recordMetadata: PipeTransform = {
  transform(value: unknown, m: ArgumentMetadata) {
    trail.push(`pipe ${m.type} ${m.data ?? '-'} ${m.metatype?.name ?? '-'}`);
    return value;
  },
};
const suffix: PipeTransform = { transform: (value: unknown) => `${String(value)}!` };

@Catch(ForbiddenException)
class ForbiddenFilter implements ExceptionFilter {
  catch(error: ForbiddenException, host: ArgumentsHost): string {
    const ctx = host.switchToRpc().getContext<MqttContext>();
    return `filtered ${error.message} ${host.getType()} ${ctx.getTopic()}`;
  }
}

class Reading {
  n!: number;
  name!: string;
}

/** Every kind of argument, read the same way with and without enhancers. */
type AllArgs = [Reading, number, string, string, unknown, unknown, unknown, unknown, unknown];

@Injectable()
class Handlers {
  readonly calls: AllArgs[] = [];

  plain(
    @Payload() body: Reading,
    @Payload('n') n: number,
    @Topic() topic: string,
    @TopicParam('id') id: string,
    @TopicParams() params: unknown,
    @UserProperties() props: unknown,
    @MessageProperties('contentType') type: unknown,
    @Packet() packet: unknown,
    @Message() msg: unknown,
  ): string {
    this.calls.push([body, n, topic, id, params, props, type, packet, msg]);
    return 'plain result';
  }

  @UseGuards(allow)
  @UseInterceptors(recordResult)
  @UsePipes({ transform: (value: unknown) => value })
  enhanced(
    @Payload() body: Reading,
    @Payload('n') n: number,
    @Topic() topic: string,
    @TopicParam('id') id: string,
    @TopicParams() params: unknown,
    @UserProperties() props: unknown,
    @MessageProperties('contentType') type: unknown,
    @Packet() packet: unknown,
    @Message() msg: unknown,
  ): string {
    this.calls.push([body, n, topic, id, params, props, type, packet, msg]);
    trail.push('method');
    return 'enhanced result';
  }

  @UseGuards(deny)
  @UseFilters(ForbiddenFilter)
  denied(@Topic() topic: string): void {
    trail.push(`method ${topic}`);
  }

  @UseGuards(deny)
  deniedUnfiltered(): void {
    trail.push('method');
  }

  @UsePipes(recordMetadata)
  piped(
    @Payload() body: Reading,
    @TopicParam('id', suffix) id: string,
    @Topic() topic: string,
    @Payload('n') n: number,
  ): string {
    return `${body.name} ${id} ${topic} ${n}`;
  }

  observablePlain(@Topic() topic: string) {
    return of('first', `last of ${topic}`);
  }

  @UseInterceptors(recordResult)
  observableEnhanced(@Topic() topic: string) {
    return of('first', `last of ${topic}`);
  }

  @UseGuards(allow)
  async asyncObservable(@Topic() topic: string) {
    await Promise.resolve();
    return of(`async ${topic}`);
  }
}

describe('handler invoker: one path whatever enhancers apply', () => {
  let app: Invokers;

  beforeAll(async () => {
    app = await invokersOf(Handlers);
  });
  beforeEach(() => {
    trail.length = 0;
    app.get(Handlers).calls.length = 0;
  });

  it('resolves the same arguments with and without enhancers', async () => {
    const msg = message();
    app.invoker('plain')(msg);
    await app.invoker('enhanced')(msg);
    const [plain, enhanced] = app.get(Handlers).calls;
    expect(enhanced).toEqual(plain);
    expect(plain).toEqual([
      { n: 7, name: 'probe' },
      7,
      'dev/d1/data',
      'd1',
      { id: 'd1' },
      { tenant: 't1' },
      'application/json',
      msg.packet,
      msg,
    ]);
    // Both got the very same objects off the message.
    expect(enhanced[7]).toBe(plain[7]);
    expect(enhanced[8]).toBe(msg);
  });

  it('with no enhancer the call is synchronous: the method value, not a Promise', () => {
    expect(app.invoker('plain')(message())).toBe('plain result');
    expect(app.plan('plain')).toMatchObject({ guards: [], interceptors: [], pipes: [] });
  });

  it('runs guards, then interceptors around the method, and the interceptor sees the result', async () => {
    const result = app.invoker('enhanced')(message());
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe('enhanced result');
    expect(trail).toEqual(['guard', 'before', 'method', 'after enhanced result']);
  });

  it('a guard that denies: ForbiddenException("Forbidden resource") through the filters', async () => {
    const result = await app.invoker('denied')(message());
    expect(result).toBe('filtered Forbidden resource mqtt dev/d1/data');
    expect(trail).toEqual(['guard']);
    const unfiltered = app.invoker('deniedUnfiltered')(message());
    await expect(unfiltered).rejects.toBeInstanceOf(ForbiddenException);
    await expect(unfiltered).rejects.toThrow('Forbidden resource');
    expect(trail).toEqual(['guard', 'guard']);
  });

  it("pipes get Nest's metadata: the param type as a word, the declared type and the data", async () => {
    expect(await app.invoker('piped')(message())).toBe('probe d1! dev/d1/data 7');
    expect([...trail].sort()).toEqual([
      'pipe body - Reading',
      'pipe body n Number',
      'pipe custom - String',
      'pipe param id String',
    ]);
  });

  it("pipes get the same metadata as through Nest's own wrapper", async () => {
    await app.invoker('piped')(message());
    const ours = [...trail].sort();
    trail.length = 0;
    const nest = app.creator.create(
      app.get(Handlers),
      app.plan('piped').method,
      'piped',
      MQTT_ARGS_METADATA,
      { exchangeKeyForValue: () => 'x' },
      undefined,
      undefined,
      { guards: true, interceptors: true, filters: false },
      'mqtt',
    );
    await nest(message().payload, new MqttContext(message(), () => ({})));
    expect([...trail].sort()).toEqual(ours);
  });

  it('an Observable result becomes its last value, with and without enhancers', async () => {
    expect(await app.invoker('observablePlain')(message())).toBe('last of dev/d1/data');
    expect(await app.invoker('observableEnhanced')(message())).toBe('last of dev/d1/data');
    expect(trail).toEqual(['before', 'after first', 'after last of dev/d1/data']);
    expect(await app.invoker('asyncObservable')(message())).toBe('async dev/d1/data');
  });

  it('decodes the payload once when a guard reads it too', async () => {
    const plan = app.plan('enhanced');
    let decodes = 0;
    const decoder = plan.decoder;
    plan.decoder = (payload) => (decodes++, decoder(payload));
    const reader = {
      canActivate: (c: ExecutionContext) =>
        c.switchToRpc().getContext<MqttContext>().getPayload() !== undefined,
    };
    await createInvoker({ ...plan, guards: [reader] }, nestConsumers(app.creator))(message());
    expect(decodes).toBe(1);
  });
});

/** Handlers of a few parameters (or none): called without an argument array when they can be. */
/* eslint-disable prefer-rest-params -- each handler returns exactly what it was called with */
@Injectable()
class OneParam {
  payload(@Payload() _body: Reading) {
    return [...arguments] as unknown[];
  }
  field(@Payload('name') _name: string) {
    return [...arguments] as unknown[];
  }
  topic(@Topic() _topic: string) {
    return [...arguments] as unknown[];
  }
  param(@TopicParam('id') _id: string) {
    return [...arguments] as unknown[];
  }
  missingParam(@TopicParam('nope') _id: string) {
    return [...arguments] as unknown[];
  }
  packet(@Packet() _packet: unknown) {
    return [...arguments] as unknown[];
  }
  second(_skipped: unknown, @Topic() _topic: string) {
    return [...arguments] as unknown[];
  }
  none() {
    return [...arguments] as unknown[];
  }
  three(@Packet() _p: unknown, @TopicParams() _params: unknown, @Message() _m: unknown) {
    return [...arguments] as unknown[];
  }
  gap(@Payload('n') _n: number, _skipped: unknown, @MessageProperties('contentType') _t: unknown) {
    return [...arguments] as unknown[];
  }
  four(
    @Topic() _t: string,
    @Payload() _b: Reading,
    @TopicParam('id') _id: string,
    @MessageProperties() _props: unknown,
  ) {
    return [...arguments] as unknown[];
  }
  twoPayloads(@Payload() _b: Reading, @Payload('n') _n: number) {
    return [...arguments] as unknown[];
  }
  userProps(@UserProperties('tenant') _tenant: string) {
    return [...arguments] as unknown[];
  }
}
/* eslint-enable prefer-rest-params */

describe('handler invoker: handlers of a few parameters read off the message', () => {
  let app: Invokers;

  beforeAll(async () => {
    app = await invokersOf(OneParam);
  });

  it.each([
    'payload',
    'field',
    'topic',
    'param',
    'missingParam',
    'packet',
    'second',
    'none',
    'three',
    'gap',
    'four',
    'twoPayloads',
    'userProps',
  ])('%s gets exactly the arguments the general resolver gives', (name) => {
    const msg = message();
    const plan = app.plan(name);
    const expected = argsResolver(plan.params, plan.decoder)(msg, undefined);
    const got = app.invoker(name)(msg) as unknown[];
    // Same values, same count: a handler reading `arguments` cannot tell the paths apart.
    expect(got).toEqual(expected);
    expect(got).toHaveLength(expected.length);
  });

  it('reads each value off the message it is given', () => {
    const invoke = app.invoker('param');
    expect(invoke(message(undefined, 'd7'))).toEqual(['d7']);
    expect(invoke(message(undefined, 'd8'))).toEqual(['d8']);
    expect(app.invoker('payload')(message({ n: 1, name: 'x' }))).toEqual([{ n: 1, name: 'x' }]);
  });
});

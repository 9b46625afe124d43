/**
 * Section 4: Nest enhancers on MQTT handlers. @UsePipes / @UseGuards / @UseInterceptors /
 * @UseFilters on methods and classes, their global APP_PIPE / APP_GUARD / APP_INTERCEPTOR /
 * APP_FILTER forms, and a ValidationPipe on @Payload(). Guards see the 'mqtt' context type and an
 * MqttContext. (@nestjs/platform-express is not installed, so `app.useGlobalPipes()` on an HTTP
 * app is not available: the APP_* providers are the global form tested here.)
 */
import {
  Catch,
  Controller,
  Injectable,
  ParseIntPipe,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
  type ArgumentMetadata,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { IsNumber, IsString } from 'class-validator';
import { tap, type Observable } from 'rxjs';
import { MqttContext, Payload, Subscribe, Topic, TopicParam } from 'nestjs-mqtt';
import { startAedes, type AedesBroker } from './support';
import { Fence, startApp, type StartedApp } from './fixtures/routing-helpers';

/** What the enhancers and handlers of one app saw, in order. */
@Injectable()
class Trail {
  readonly events: string[] = [];
  push(event: string): void {
    this.events.push(event);
  }
  matching(prefix: string): string[] {
    return this.events.filter((e) => e.startsWith(prefix));
  }
}

class OopsError extends Error {}
class GlobalOopsError extends Error {}

class ReadingDto {
  @IsString()
  device!: string;

  @IsNumber()
  celsius!: number;
}

// ---- enhancers -----------------------------------------------------------------------------

@Injectable()
class UpperPipe implements PipeTransform {
  constructor(private readonly trail: Trail) {}
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    this.trail.push(`upper-pipe metatype=${metadata.metatype?.name ?? 'none'}`);
    return typeof value === 'string' ? value.toUpperCase() : value;
  }
}

@Injectable()
class SuffixPipe implements PipeTransform {
  transform(value: unknown): unknown {
    return typeof value === 'string' ? `${value}!` : value;
  }
}

/** Denies topics with a "deny" level; records what the execution context looks like. */
@Injectable()
class TopicGuard implements CanActivate {
  constructor(private readonly trail: Trail) {}
  canActivate(context: ExecutionContext): boolean {
    const rpc = context.switchToRpc();
    const ctx = rpc.getContext<MqttContext>();
    const data: unknown = rpc.getData();
    this.trail.push(
      `guard type=${context.getType()} ctx=${ctx instanceof MqttContext} topic=${ctx.getTopic()} ` +
        `data=${Buffer.isBuffer(data) ? data.toString() : typeof data} ` +
        `handler=${context.getClass().name}.${context.getHandler().name}`,
    );
    return !ctx.getTopic().split('/').includes('deny');
  }
}

@Injectable()
class RecordingInterceptor implements NestInterceptor {
  constructor(private readonly trail: Trail) {}
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const topic = context.switchToRpc().getContext<MqttContext>().getTopic();
    this.trail.push(`before ${topic} type=${context.getType()}`);
    return next
      .handle()
      .pipe(tap((result) => this.trail.push(`after ${topic} -> ${String(result)}`)));
  }
}

/**
 * Handles OopsError. As everywhere outside HTTP in Nest, a filter that returns `undefined` means
 * "not handled" (the error goes on to the default handler), so it returns a value.
 */
@Catch(OopsError)
class OopsFilter implements ExceptionFilter {
  constructor(private readonly trail: Trail) {}
  catch(exception: OopsError, host: ArgumentsHost): string {
    const ctx = host.switchToRpc().getContext<MqttContext>();
    this.trail.push(`filter ${exception.message} type=${host.getType()} topic=${ctx.getTopic()}`);
    return 'handled';
  }
}

// ---- handlers with method-level enhancers --------------------------------------------------

@Injectable()
class MethodEnhanced {
  constructor(private readonly trail: Trail) {}

  @Subscribe('pipe/+')
  @UsePipes(UpperPipe)
  piped(@Payload() text: string): void {
    this.trail.push(`handler piped ${text}`);
  }

  @Subscribe('guard/#')
  @UseGuards(TopicGuard)
  guarded(@Topic() topic: string): void {
    this.trail.push(`handler guarded ${topic}`);
  }

  @Subscribe('icpt/+')
  @UseInterceptors(RecordingInterceptor)
  intercepted(@Topic() topic: string): string {
    this.trail.push(`handler intercepted ${topic}`);
    return `result-of-${topic}`;
  }

  @Subscribe('filter/+')
  @UseFilters(OopsFilter)
  filtered(@Topic() topic: string): void {
    this.trail.push(`handler filtered ${topic}`);
    throw new OopsError(`oops at ${topic}`);
  }

  @Subscribe('validate/+')
  validated(
    @Payload(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
    body: ReadingDto,
  ): void {
    this.trail.push(`handler validated ${body.device}=${body.celsius}`);
  }
}

// ---- handlers with class-level enhancers ---------------------------------------------------

@Injectable()
@UsePipes(SuffixPipe)
@UseGuards(TopicGuard)
@UseInterceptors(RecordingInterceptor)
@UseFilters(OopsFilter)
class ClassEnhanced {
  constructor(private readonly trail: Trail) {}

  @Subscribe('cls/+/text')
  text(@Payload() text: string): string {
    this.trail.push(`handler cls ${text}`);
    return text;
  }

  @Subscribe('cls/+/boom')
  boom(@Topic() topic: string): void {
    throw new OopsError(`class oops at ${topic}`);
  }
}

// ---- global enhancers ----------------------------------------------------------------------

@Injectable()
class GlobalPipe implements PipeTransform {
  constructor(private readonly trail: Trail) {}
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    this.trail.push(`global-pipe ${metadata.metatype?.name ?? 'none'}`);
    return value;
  }
}

@Injectable()
class GlobalGuard implements CanActivate {
  constructor(private readonly trail: Trail) {}
  canActivate(context: ExecutionContext): boolean {
    const ctx = context.switchToRpc().getContext<MqttContext>();
    const allowed = !ctx.getTopic().includes('blocked');
    this.trail.push(`global-guard ${context.getType()} ${ctx.getTopic()} ${allowed}`);
    return allowed;
  }
}

@Injectable()
class GlobalInterceptor implements NestInterceptor {
  constructor(private readonly trail: Trail) {}
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const topic = context.switchToRpc().getContext<MqttContext>().getTopic();
    this.trail.push(`global-before ${topic}`);
    return next.handle().pipe(tap(() => this.trail.push(`global-after ${topic}`)));
  }
}

@Catch(GlobalOopsError)
class GlobalFilter implements ExceptionFilter {
  constructor(private readonly trail: Trail) {}
  catch(exception: GlobalOopsError, host: ArgumentsHost): string {
    this.trail.push(`global-filter ${exception.message} ${host.getType()}`);
    return 'handled';
  }
}

@Injectable()
class PlainHandlers {
  constructor(private readonly trail: Trail) {}

  @Subscribe('glob/+')
  plain(@Payload() text: string, @Topic() topic: string): void {
    this.trail.push(`handler glob ${topic}=${text}`);
  }

  @Subscribe('gboom/+')
  boom(@Topic() topic: string): void {
    throw new GlobalOopsError(`global oops at ${topic}`);
  }
}

/** A controller's enhancers given as classes: they resolve in the module that declares it. */
@Controller()
@UseGuards(TopicGuard)
class GuardedController {
  constructor(private readonly trail: Trail) {}

  @Subscribe('ctl/#')
  @UseInterceptors(RecordingInterceptor)
  @UsePipes(UpperPipe)
  on(@Payload() text: string): void {
    this.trail.push(`handler ctl ${text}`);
  }
}

/** Pipes given as classes to parameter decorators, one of them with a dependency. */
@Injectable()
class ParamPipes {
  constructor(private readonly trail: Trail) {}

  @Subscribe('param-pipes/+id')
  on(@TopicParam('id', ParseIntPipe) id: number, @Payload(UpperPipe) text: string): void {
    this.trail.push(`handler ${typeof id} ${id} ${text}`);
  }
}

describe('Nest enhancers on MQTT handlers (section 4)', () => {
  let aedes: AedesBroker;
  let current: StartedApp | undefined;

  beforeAll(async () => {
    aedes = await startAedes();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  afterAll(() => aedes?.stop());

  const handlerFailures = (app: StartedApp) =>
    app.logger.lines.filter((l) => l.context === 'MqttModule' && /^Handler /.test(l.message));

  it('@UsePipes on a method transforms the @Payload() value', async () => {
    current = await startApp({ broker: aedes, providers: [Trail, Fence, MethodEnhanced] });
    await current.mqtt.publish('pipe/1', 'quiet words', { qos: 1 });
    await current.fence();
    const trail = current.get(Trail);
    expect(trail.events).toEqual(['upper-pipe metatype=String', 'handler piped QUIET WORDS']);
  });

  it('@UseGuards on a method: context type "mqtt", an MqttContext with getTopic(); false blocks', async () => {
    current = await startApp({ broker: aedes, providers: [Trail, Fence, MethodEnhanced] });
    await current.mqtt.publish('guard/ok', 'p1', { qos: 1 });
    await current.mqtt.publish('guard/deny/x', 'p2', { qos: 1 });
    await current.fence();
    const trail = current.get(Trail);
    expect(trail.events).toEqual([
      'guard type=mqtt ctx=true topic=guard/ok data=p1 handler=MethodEnhanced.guarded',
      'handler guarded guard/ok',
      'guard type=mqtt ctx=true topic=guard/deny/x data=p2 handler=MethodEnhanced.guarded',
    ]);
    const failures = handlerFailures(current);
    expect(failures).toHaveLength(1);
    expect(failures[0].message).toContain('MethodEnhanced.guarded');
    expect(failures[0].message).toContain('guard/deny/x');
    expect(failures[0].message).toMatch(/forbidden/i);
  });

  it('@UseInterceptors on a method wraps the call and sees its return value', async () => {
    current = await startApp({ broker: aedes, providers: [Trail, Fence, MethodEnhanced] });
    await current.mqtt.publish('icpt/a', '', { qos: 1 });
    await current.fence();
    expect(current.get(Trail).events).toEqual([
      'before icpt/a type=mqtt',
      'handler intercepted icpt/a',
      'after icpt/a -> result-of-icpt/a',
    ]);
  });

  it('@UseFilters on a method catches the handler error (no failure logged by the module)', async () => {
    current = await startApp({ broker: aedes, providers: [Trail, Fence, MethodEnhanced] });
    await current.mqtt.publish('filter/x', '', { qos: 1 });
    await current.fence();
    expect(current.get(Trail).events).toEqual([
      'handler filtered filter/x',
      'filter oops at filter/x type=mqtt topic=filter/x',
    ]);
    expect(handlerFailures(current)).toEqual([]);
    expect(current.logger.at('error')).toEqual([]);
  });

  it('class-level @UsePipes, @UseGuards, @UseInterceptors and @UseFilters apply to every handler', async () => {
    current = await startApp({ broker: aedes, providers: [Trail, Fence, ClassEnhanced] });
    await current.mqtt.publish('cls/ok/text', 'hi', { qos: 1 });
    await current.mqtt.publish('cls/deny/text', 'no', { qos: 1 });
    await current.mqtt.publish('cls/ok/boom', '', { qos: 1 });
    await current.fence();
    const events = current.get(Trail).events;
    expect(events).toEqual([
      'guard type=mqtt ctx=true topic=cls/ok/text data=hi handler=ClassEnhanced.text',
      'before cls/ok/text type=mqtt',
      'handler cls hi!',
      'after cls/ok/text -> hi!',
      'guard type=mqtt ctx=true topic=cls/deny/text data=no handler=ClassEnhanced.text',
      'guard type=mqtt ctx=true topic=cls/ok/boom data= handler=ClassEnhanced.boom',
      'before cls/ok/boom type=mqtt',
      // The class pipe also ran on @Topic(); the MqttContext keeps the real topic.
      'filter class oops at cls/ok/boom! type=mqtt topic=cls/ok/boom',
    ]);
    const failures = handlerFailures(current);
    expect(failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/ClassEnhanced\.text.*cls\/deny\/text.*forbidden/i),
    ]);
  });

  it("a controller's guards, interceptors and pipes given as classes are not dropped", async () => {
    current = await startApp({
      broker: aedes,
      providers: [Trail, Fence],
      controllers: [GuardedController],
    });
    await current.mqtt.publish('ctl/ok', 'hi', { qos: 1 });
    await current.mqtt.publish('ctl/deny', 'no', { qos: 1 });
    await current.fence();
    expect(current.get(Trail).events).toEqual([
      'guard type=mqtt ctx=true topic=ctl/ok data=hi handler=GuardedController.on',
      'before ctl/ok type=mqtt',
      'upper-pipe metatype=String',
      'handler ctl HI',
      'after ctl/ok -> undefined',
      'guard type=mqtt ctx=true topic=ctl/deny data=no handler=GuardedController.on',
    ]);
    expect(handlerFailures(current).map((f) => f.message)).toEqual([
      expect.stringMatching(/GuardedController\.on.*ctl\/deny.*forbidden/i),
    ]);
  });

  it('pipe classes given to @TopicParam() and @Payload() run, built by Nest in the handler module', async () => {
    // Not providers of the module: Nest makes them injectables, as for @Param('id', ParseIntPipe).
    current = await startApp({ broker: aedes, providers: [Trail, Fence, ParamPipes] });
    await current.mqtt.publish('param-pipes/42', 'quiet', { qos: 1 });
    await current.mqtt.publish('param-pipes/x', 'never', { qos: 1 });
    await current.fence();
    // Nest runs every parameter's pipes, so the payload pipe also ran for the refused id.
    expect(current.get(Trail).events).toEqual([
      'upper-pipe metatype=String',
      'handler number 42 QUIET',
      'upper-pipe metatype=String',
    ]);
    const failures = handlerFailures(current);
    expect(failures).toHaveLength(1);
    expect(failures[0].message).toContain('ParamPipes.on');
    expect(failures[0].message).toContain('numeric string is expected');
  });

  it('APP_PIPE, APP_GUARD, APP_INTERCEPTOR and APP_FILTER providers apply to MQTT handlers', async () => {
    current = await startApp({
      broker: aedes,
      providers: [
        Trail,
        Fence,
        PlainHandlers,
        { provide: APP_PIPE, useClass: GlobalPipe },
        { provide: APP_GUARD, useClass: GlobalGuard },
        { provide: APP_INTERCEPTOR, useClass: GlobalInterceptor },
        { provide: APP_FILTER, useClass: GlobalFilter },
      ],
    });
    await current.mqtt.publish('glob/1', 'payload', { qos: 1 });
    await current.mqtt.publish('glob/blocked', 'x', { qos: 1 });
    await current.mqtt.publish('gboom/2', '', { qos: 1 });
    await current.fence();
    const trail = current.get(Trail);
    // The fence handler goes through the global enhancers too: keep what came before it.
    const events = trail.events.slice(
      0,
      trail.events.findIndex((e) => e.includes('fence/')),
    );
    expect(events).toEqual([
      'global-guard mqtt glob/1 true',
      'global-before glob/1',
      'global-pipe String',
      'global-pipe String',
      'handler glob glob/1=payload',
      'global-after glob/1',
      'global-guard mqtt glob/blocked false',
      'global-guard mqtt gboom/2 true',
      'global-before gboom/2',
      'global-pipe String',
      'global-filter global oops at gboom/2 mqtt',
    ]);
    expect(handlerFailures(current).map((f) => f.message)).toEqual([
      expect.stringMatching(/PlainHandlers\.plain.*glob\/blocked.*forbidden/i),
    ]);
  });

  it('a ValidationPipe on @Payload() rejects an invalid payload and the log says why', async () => {
    current = await startApp({ broker: aedes, providers: [Trail, Fence, MethodEnhanced] });
    await current.mqtt.publish('validate/ok', { device: 'd1', celsius: 20 }, { qos: 1 });
    await current.mqtt.publish(
      'validate/extra',
      { device: 'd2', celsius: 5, extra: 1 },
      { qos: 1 },
    );
    await current.fence();
    expect(current.get(Trail).events).toEqual(['handler validated d1=20']);
    const failures = handlerFailures(current);
    expect(failures).toHaveLength(1);
    expect(failures[0].message).toContain('MethodEnhanced.validated');
    expect(failures[0].message).toContain('validate/extra');
    expect(failures[0].message).toContain('property extra should not exist');
  });

  it('a global APP_PIPE ValidationPipe validates DTO payloads of every handler', async () => {
    @Injectable()
    class DtoHandler {
      constructor(private readonly trail: Trail) {}
      @Subscribe('gdto/+')
      on(@Payload() body: ReadingDto): void {
        this.trail.push(`handler gdto ${body.device}`);
      }
    }
    current = await startApp({
      broker: aedes,
      providers: [
        Trail,
        Fence,
        DtoHandler,
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }),
        },
      ],
    });
    await current.mqtt.publish('gdto/ok', { device: 'ok', celsius: 1 }, { qos: 1 });
    await current.mqtt.publish('gdto/bad', { device: 'bad', celsius: 1, sneaky: true }, { qos: 1 });
    await current.fence();
    expect(current.get(Trail).events).toEqual(['handler gdto ok']);
    const failures = handlerFailures(current);
    expect(failures).toHaveLength(1);
    expect(failures[0].message).toContain('DtoHandler.on');
    expect(failures[0].message).toContain('gdto/bad');
    expect(failures[0].message).toContain('property sneaky should not exist');
  });
});

import {
  Catch,
  Controller,
  Injectable,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type NestInterceptor,
  type ArgumentMetadata,
  type ExecutionContext,
  type PipeTransform,
} from '@nestjs/common';
import { ExternalContextCreator, ModulesContainer } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { lastValueFrom, map, type Observable } from 'rxjs';
import {
  enhancersOf,
  exceptionFiltersOf,
  missingNestInternals,
  nestConsumers,
  paramPipesOf,
} from './nest.internals';

/**
 * The contract with NestJS's private members (nest.internals.ts). If this fails after a Nest
 * upgrade, the module cannot see guards, interceptors, pipes or filters: fix nest.internals.ts
 * before anything else (the module refuses to start meanwhile, by design).
 */
@Injectable()
class Guard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}
@Injectable()
class Interceptor implements NestInterceptor {
  intercept(_c: unknown, next: CallHandler) {
    return next.handle();
  }
}
@Injectable()
class Upper implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    return `${String(value).toUpperCase()} (${metadata.type})`;
  }
}
@Catch(RangeError)
class RangeFilter implements ExceptionFilter {
  catch(): void {}
}

@Controller()
class Handlers {
  @UseGuards(new Guard())
  @UseInterceptors(new Interceptor())
  @UsePipes(new ValidationPipe())
  @UseFilters(new RangeFilter())
  enhanced(): void {}

  @UsePipes(Upper)
  piped(): void {}

  plain(): void {}
}

class Unregistered implements PipeTransform {
  transform(value: unknown): unknown {
    return value;
  }
}

/** A method of Handlers, as the explorer reads it off the prototype. */
const method = (name: 'enhanced' | 'plain'): unknown =>
  Object.getOwnPropertyDescriptor(Handlers.prototype, name)?.value;

describe('NestJS internals used by the explorer', () => {
  let creator: ExternalContextCreator;
  /** The key of the module declaring Handlers (the explorer takes it from the host wrapper). */
  let key: string;

  beforeAll(async () => {
    const app = await Test.createTestingModule({
      controllers: [Handlers],
      providers: [Guard, Interceptor],
    }).compile();
    creator = app.get(ExternalContextCreator);
    const modules = [...app.get(ModulesContainer).entries()];
    key = modules.find(([, ref]) => ref.controllers.has(Handlers))?.[0] ?? '';
    expect(key).not.toBe('');
  });

  it('ExternalContextCreator still has the four context creators and the three consumers', () => {
    expect(missingNestInternals(creator)).toEqual([]);
  });

  it('gives the guards, interceptors and pipes of a method as instances, and none of a plain one', () => {
    const handlers = new Handlers();
    const found = enhancersOf(creator, handlers, method('enhanced'), key);
    expect(found.guards).toEqual([expect.any(Guard)]);
    expect(found.interceptors).toEqual([expect.any(Interceptor)]);
    expect(found.pipes).toEqual([expect.any(ValidationPipe)]);
    expect(enhancersOf(creator, handlers, method('plain'), key)).toEqual({
      guards: [],
      interceptors: [],
      pipes: [],
    });
  });

  it("resolves a parameter's pipes as Nest resolves a route argument's", () => {
    const own = new Upper();
    // A class resolves to the module's instance when Nest registered it as an enhancer (here
    // through @UsePipes); one it never saw resolves to nothing, as in Nest's own wrapper.
    const pipes = paramPipesOf(creator, [Upper, own, 'not a pipe', Unregistered], key);
    expect(pipes).toHaveLength(2);
    expect(pipes[0]).toBeInstanceOf(Upper);
    expect(pipes[0]).not.toBe(own);
    expect(pipes[1]).toBe(own);
    expect(paramPipesOf(creator, [], key)).toEqual([]);
  });

  it("runs guards, interceptors and pipes with Nest's consumers", async () => {
    const { guards, interceptors, pipes } = nestConsumers(creator);
    const handlers = new Handlers();
    const callback = method('enhanced') as (...a: unknown[]) => unknown;
    let seen: ExecutionContext | undefined;
    const deny = {
      canActivate: (context: ExecutionContext) => {
        seen = context;
        return false;
      },
    };
    expect(await guards.tryActivate([deny], ['data', 'ctx'], handlers, callback, 'mqtt')).toBe(
      false,
    );
    expect(seen?.getType()).toBe('mqtt');
    expect(seen?.switchToRpc().getContext()).toBe('ctx');
    expect(seen?.getClass()).toBe(Handlers);
    expect(seen?.getHandler()).toBe(callback);

    const double = {
      intercept: (_c: ExecutionContext, next: CallHandler): Observable<unknown> =>
        next.handle().pipe(map((v) => (v as number) * 2)),
    };
    const result = await interceptors.intercept(
      [double],
      ['data', 'ctx'],
      handlers,
      callback,
      () => Promise.resolve(21),
      'mqtt',
    );
    expect(await lastValueFrom(result as Observable<unknown>)).toBe(42);

    const metadata = { metatype: String, type: 3, data: undefined };
    expect(await pipes.apply('a', metadata, [new Upper()])).toBe('A (body)');
    expect(await pipes.apply('a', { ...metadata, type: 5 }, [new Upper()])).toBe('A (param)');
    expect(await pipes.apply('a', { ...metadata, type: 20 }, [new Upper()])).toBe('A (custom)');
  });

  it('gives the exception filters with the types they catch', () => {
    const handlers = new Handlers();
    const chain = exceptionFiltersOf(creator, handlers, method('enhanced'), key);
    expect(chain.filters).toHaveLength(1);
    expect(chain.filters[0].exceptionMetatypes).toEqual([RangeError]);
    expect(typeof chain.filters[0].func).toBe('function');
    expect(exceptionFiltersOf(creator, handlers, method('plain'), key).filters).toEqual([]);
  });

  it('reports what is missing when a creator is gone', () => {
    const broken = Object.create(creator, {
      pipesContextCreator: { value: undefined },
    }) as ExternalContextCreator;
    expect(missingNestInternals(broken)).toEqual(['pipesContextCreator']);
  });

  it('reports a method a consumer or creator no longer has', () => {
    const broken = Object.create(creator, {
      guardsConsumer: { value: {} },
      pipesContextCreator: { value: { create: () => [] } },
    }) as ExternalContextCreator;
    expect(missingNestInternals(broken)).toEqual([
      'pipesContextCreator.setModuleContext',
      'pipesContextCreator.createConcreteContext',
      'guardsConsumer.tryActivate',
    ]);
  });
});

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
} from '@nestjs/common';
import { ExternalContextCreator } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { enhancersOf, exceptionFiltersOf, missingNestInternals } from './nest.internals';

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

  plain(): void {}
}

/** A method of Handlers, as the explorer reads it off the prototype. */
const method = (name: 'enhanced' | 'plain'): unknown =>
  Object.getOwnPropertyDescriptor(Handlers.prototype, name)?.value;

describe('NestJS internals used by the explorer', () => {
  let creator: ExternalContextCreator;
  const moduleKey = (c: ExternalContextCreator) => c.getContextModuleKey(Handlers);

  beforeAll(async () => {
    const app = await Test.createTestingModule({
      controllers: [Handlers],
      providers: [Guard, Interceptor],
    }).compile();
    creator = app.get(ExternalContextCreator);
  });

  it('ExternalContextCreator still has the four context creators', () => {
    expect(missingNestInternals(creator)).toEqual([]);
  });

  it('tells the guards, interceptors and pipes of a method, and none of a plain one', () => {
    const handlers = new Handlers();
    const key = moduleKey(creator);
    expect(enhancersOf(creator, handlers, method('enhanced'), key)).toEqual({
      guards: 1,
      interceptors: 1,
      pipes: 1,
    });
    expect(enhancersOf(creator, handlers, method('plain'), key)).toEqual({
      guards: 0,
      interceptors: 0,
      pipes: 0,
    });
  });

  it('gives the exception filters with the types they catch', () => {
    const handlers = new Handlers();
    const key = moduleKey(creator);
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
});

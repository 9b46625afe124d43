import type { IPublishPacket } from 'mqtt';
import { MqttSubscribeError } from './errors/mqtt-subscribe.error';
import type { MqttMessage } from './interfaces/mqtt-message.interface';
import type { MqttSubscribeOptions } from './interfaces/subscribe-options.interface';
import {
  MqttRouter,
  type MqttBrokerSubscription,
  type MqttDispatchListener,
  type MqttHandlerDefinition,
  type RoutedHandler,
} from './mqtt.router';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** A promise settled from the outside, so asynchronous handlers finish exactly when told. */
function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending microtask (and the promise chains they start) run. */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A PUBLISH packet as MQTT.js hands it over. */
function packet(
  topic: string,
  payload = '',
  properties?: IPublishPacket['properties'],
): IPublishPacket {
  return {
    cmd: 'publish',
    topic,
    payload: Buffer.from(payload),
    qos: 1,
    retain: false,
    dup: false,
    messageId: 1,
    ...(properties ? { properties } : {}),
  };
}

/** A copy of a message sent for the MQTT 5 subscription identifier(s) `ids`. */
function copyFor(topic: string, ids: number | number[], payload = ''): IPublishPacket {
  return packet(topic, payload, { subscriptionIdentifier: ids });
}

/** An untracked dispatch, which never returns a promise. */
function fire(router: MqttRouter, message: IPublishPacket): void {
  const result = router.dispatch(message, false);
  if (result !== undefined) throw new Error('an untracked dispatch returned a promise');
}

/** A handler definition with one group of filters. */
function def(
  name: string,
  filters: string | string[],
  options: MqttSubscribeOptions = {},
  invoke: (message: MqttMessage) => unknown = () => undefined,
): MqttHandlerDefinition {
  return {
    name,
    subscriptions: [{ filters: typeof filters === 'string' ? [filters] : filters, options }],
    invoke,
  };
}

/** Whether a tracked dispatch settled (and how), observed without awaiting it. */
function watch(promise: Promise<void> | undefined): { settled: boolean; rejected: boolean } {
  expect(promise).toBeInstanceOf(Promise);
  const state = { settled: false, rejected: false };
  promise!.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
      state.rejected = true;
    },
  );
  return state;
}

/** 'settled' when `promise` settles before a short timer fires, else 'pending'. */
function raceTimer(promise: Promise<unknown>, ms = 25): Promise<'settled' | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  return Promise.race([promise.then(() => 'settled' as const), timeout]).finally(() =>
    clearTimeout(timer),
  );
}

/** The error thrown by `fn`, failing the test when it does not throw. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

interface Reported {
  handler: string;
  topic: string;
  filter: string;
  value: unknown;
}

/** A router with a recording listener. */
function setup(maxQueuedMessages?: number) {
  const router = new MqttRouter();
  const results: Reported[] = [];
  const errors: Reported[] = [];
  const hooks: {
    onError?: (handler: RoutedHandler, message: MqttMessage) => Promise<void> | undefined;
  } = {};
  const listener: MqttDispatchListener = {
    onHandlerResult(handler, message, result) {
      results.push({
        handler: handler.name,
        topic: message.topic,
        filter: message.filter,
        value: result,
      });
    },
    onHandlerError(handler, message, error) {
      errors.push({
        handler: handler.name,
        topic: message.topic,
        filter: message.filter,
        value: error,
      });
      return hooks.onError?.(handler, message);
    },
  };
  router.setListener(listener, maxQueuedMessages);
  return { router, results, errors, hooks };
}

/** A handler that records every message it receives. */
function recorder() {
  const seen: MqttMessage[] = [];
  return {
    seen,
    invoke: (message: MqttMessage): undefined => {
      seen.push(message);
      return undefined;
    },
    topics: () => seen.map((m) => m.topic),
  };
}

/** An asynchronous handler whose runs each wait for their own gate. */
function gated() {
  const runs: Array<{ message: MqttMessage; gate: Deferred }> = [];
  let active = 0;
  let maxActive = 0;
  return {
    runs,
    get active() {
      return active;
    },
    get maxActive() {
      return maxActive;
    },
    payloads: () => runs.map((r) => r.message.payload.toString()),
    invoke: (message: MqttMessage): Promise<void> => {
      const gate = deferred();
      runs.push({ message, gate });
      active++;
      maxActive = Math.max(maxActive, active);
      return gate.promise.finally(() => {
        active--;
      });
    },
  };
}

function byFilter(router: MqttRouter): Record<string, MqttBrokerSubscription> {
  return Object.fromEntries(router.brokerSubscriptions().map((s) => [s.filter, s]));
}

function brokerFilters(router: MqttRouter): string[] {
  return router
    .brokerSubscriptions()
    .map((s) => s.filter)
    .sort();
}

// ---------------------------------------------------------------------------------------------
// register()
// ---------------------------------------------------------------------------------------------

describe('MqttRouter', () => {
  describe('register()', () => {
    it('subscribes each distinct broker filter once, at the highest QoS any handler asks', () => {
      const { router } = setup();
      router.register(def('A', ['a/+', 'b'], { qos: 0 }));
      router.register(def('B', ['a/+', 'c/#'], { qos: 2 }));
      router.register(def('C', ['b', 'c/#'], { qos: 1 }));

      const subs = byFilter(router);
      expect(Object.keys(subs).sort()).toEqual(['a/+', 'b', 'c/#']);
      expect(subs['a/+'].qos).toBe(2);
      expect(subs['b'].qos).toBe(1);
      expect(subs['c/#'].qos).toBe(2);
      expect([...subs['a/+'].handlers].map((h) => h.name)).toEqual(['A', 'B']);
      expect([...subs['b'].handlers].map((h) => h.name)).toEqual(['A', 'C']);
      expect([...subs['c/#'].handlers].map((h) => h.name)).toEqual(['B', 'C']);
      const ids = router.brokerSubscriptions().map((s) => s.id);
      expect(new Set(ids).size).toBe(3);
      expect(router.allHandlers().map((h) => h.name)).toEqual(
        expect.arrayContaining(['A', 'B', 'C']),
      );
      expect(router.allHandlers()).toHaveLength(3);
    });

    it('copies nl / rap / rh and defaults them', () => {
      const { router } = setup();
      router.register(def('A', 'x', { nl: true, rap: true, rh: 2, qos: 1 }));
      router.register(def('B', 'y'));
      const subs = byFilter(router);
      expect(subs['x']).toMatchObject({ qos: 1, nl: true, rap: true, rh: 2 });
      expect(subs['y']).toMatchObject({ qos: 0, nl: false, rap: false, rh: 0 });
      expect(subs['x'].granted).toBeUndefined();
    });

    it('reports in `changed` the new subscriptions and the QoS raises only', () => {
      const { router } = setup();
      const first = router.register(def('A', ['a', 'b'], { qos: 1 }));
      expect(first.changed.map((s) => s.filter)).toEqual(['a', 'b']);
      for (const sub of first.changed) sub.granted = sub.qos;

      // Same filters, same or lower QoS: nothing to send to the broker.
      expect(router.register(def('B', ['a', 'b'], { qos: 1 })).changed).toEqual([]);
      expect(router.register(def('C', 'a', { qos: 0 })).changed).toEqual([]);
      expect(byFilter(router)['a'].qos).toBe(1);
      expect(byFilter(router)['a'].granted).toBe(1);

      // A higher QoS: subscribed again, the previous grant forgotten.
      const raised = router.register(def('D', ['a', 'new'], { qos: 2 }));
      expect(raised.changed.map((s) => s.filter)).toEqual(['a', 'new']);
      expect(raised.changed[0].qos).toBe(2);
      expect(raised.changed[0].granted).toBeUndefined();
      expect(byFilter(router)['b'].granted).toBe(1);
      expect(brokerFilters(router)).toEqual(['a', 'b', 'new']);
    });

    it('lists a subscription once in `changed` when one registration creates and raises it', () => {
      const { router } = setup();
      const { changed, handler } = router.register({
        name: 'Multi.handle',
        subscriptions: [
          { filters: ['m/+'], options: { qos: 0 } },
          { filters: ['m/+'], options: { qos: 2 } },
        ],
        invoke: () => undefined,
      });
      expect(changed).toHaveLength(1);
      expect(changed[0]).toMatchObject({ filter: 'm/+', qos: 2 });
      expect(router.brokerSubscriptions()).toHaveLength(1);
      expect(handler.filters).toEqual(['m/+', 'm/+']);
    });

    it('`share` subscribes `$share/<group>/…`; the handler keeps the filter as written', () => {
      const { router } = setup();
      const rec = recorder();
      const { handler, changed } = router.register(
        def('Shared.handle', 'sensors/+deviceId/temp', { share: 'workers', qos: 1 }, rec.invoke),
      );
      expect(changed.map((s) => s.filter)).toEqual(['$share/workers/sensors/+/temp']);
      expect(brokerFilters(router)).toEqual(['$share/workers/sensors/+/temp']);
      expect(handler.filters).toEqual(['sensors/+deviceId/temp']);

      fire(router, packet('sensors/d7/temp'));
      expect(rec.seen).toHaveLength(1);
      expect(rec.seen[0].filter).toBe('sensors/+deviceId/temp');
      expect(rec.seen[0].params).toEqual({ deviceId: 'd7' });
    });

    it('the `defaultShare` argument shares every filter that has no group of its own', () => {
      const { router } = setup();
      const rec = recorder();
      const { handler } = router.register(def('Def.handle', ['x/+', 'y'], {}, rec.invoke), 'grp');
      router.register(def('Own.handle', '$share/own/z'), 'grp');
      router.register(def('Opt.handle', 'w', { share: 'opt' }), 'grp');

      expect(brokerFilters(router)).toEqual([
        '$share/grp/x/+',
        '$share/grp/y',
        '$share/opt/w',
        '$share/own/z',
      ]);
      expect(handler.filters).toEqual(['x/+', 'y']);
      fire(router, packet('x/1'));
      fire(router, packet('y'));
      expect(rec.seen.map((m) => [m.topic, m.filter])).toEqual([
        ['x/1', 'x/+'],
        ['y', 'y'],
      ]);
    });

    it('`share: false` opts out of the default group', () => {
      const { router } = setup();
      const { handler } = router.register(def('Private.handle', 'p/#', { share: false }), 'grp');
      expect(brokerFilters(router)).toEqual(['p/#']);
      expect(handler.filters).toEqual(['p/#']);
    });

    it('keeps shared and plain subscriptions of one filter apart, and both receive', () => {
      const { router } = setup();
      const shared = recorder();
      const plain = recorder();
      router.register(def('Shared', 't/+', { qos: 1 }, shared.invoke), 'g');
      router.register(def('Plain', 't/+', { share: false, qos: 0 }, plain.invoke), 'g');
      const subs = byFilter(router);
      expect(Object.keys(subs).sort()).toEqual(['$share/g/t/+', 't/+']);
      expect(subs['$share/g/t/+'].qos).toBe(1);
      expect(subs['t/+'].qos).toBe(0);

      fire(router, packet('t/1'));
      expect(shared.topics()).toEqual(['t/1']);
      expect(plain.topics()).toEqual(['t/1']);
    });

    it.each([
      ['a/#/b'],
      ['a/b#'],
      ['a/b+'],
      [''],
      ['a/+bad-name'],
      ['a/+x/+x'],
      ['$share/g'],
      ['$share//a'],
      ['a/\0'],
    ])('rejects the invalid filter %j with an MqttSubscribeError naming the handler', (filter) => {
      const { router } = setup();
      const error = thrown(() => router.register(def('Bad.handler', ['ok', filter])));
      expect(error).toBeInstanceOf(MqttSubscribeError);
      expect(error.name).toBe('MqttSubscribeError');
      expect(error.message).toContain('Bad.handler');
      expect(error.message).toContain(JSON.stringify(filter));
    });

    it('rejects an invalid share group with an MqttSubscribeError naming the handler', () => {
      const { router } = setup();
      const error = thrown(() => router.register(def('Group.handler', 'a', { share: 'x/y' })));
      expect(error).toBeInstanceOf(MqttSubscribeError);
      expect(error.message).toContain('Group.handler');
      const viaDefault = thrown(() => router.register(def('Default.handler', 'a'), 'g+'));
      expect(viaDefault).toBeInstanceOf(MqttSubscribeError);
      expect(viaDefault.message).toContain('Default.handler');
    });

    it('rejects a handler without any filter', () => {
      const { router } = setup();
      const noFilter = thrown(() => router.register(def('Empty.handler', [])));
      expect(noFilter).toBeInstanceOf(MqttSubscribeError);
      expect(noFilter.message).toContain('Empty.handler');
      const noGroup = thrown(() =>
        router.register({ name: 'None.handler', subscriptions: [], invoke: () => undefined }),
      );
      expect(noGroup).toBeInstanceOf(MqttSubscribeError);
      expect(noGroup.message).toContain('None.handler');
    });

    it.each([[0], [NaN], [1.5], [-1], [Infinity]])(
      'rejects concurrency %p with an MqttSubscribeError naming the handler',
      (concurrency) => {
        const { router } = setup();
        const error = thrown(() => router.register(def('Conc.handler', 'a', { concurrency })));
        expect(error).toBeInstanceOf(MqttSubscribeError);
        expect(error.message).toContain('Conc.handler');
        expect(error.message).toContain(String(concurrency));
        expect(router.allHandlers()).toEqual([]);
      },
    );

    it('takes the highest concurrency of its subscription groups (1 by default)', () => {
      const { router } = setup();
      expect(router.register(def('One', 'a')).handler.concurrency).toBe(1);
      const { handler } = router.register({
        name: 'Many',
        subscriptions: [
          { filters: ['b'], options: { concurrency: 4 } },
          { filters: ['c'], options: { concurrency: 2 } },
        ],
        invoke: () => undefined,
      });
      expect(handler.concurrency).toBe(4);
    });

    it('gives the values of named wildcards in message.params', () => {
      const { router } = setup();
      const sensors = recorder();
      const logs = recorder();
      const plain = recorder();
      router.register(def('Sensors', 'sensors/+site/+deviceId/temp', {}, sensors.invoke));
      router.register(def('Logs', 'logs/#path', {}, logs.invoke));
      router.register(def('Plain', 'plain/+', {}, plain.invoke));
      expect(brokerFilters(router)).toEqual(['logs/#', 'plain/+', 'sensors/+/+/temp']);

      fire(router, packet('sensors/lab/d1/temp'));
      fire(router, packet('sensors//d2/temp'));
      fire(router, packet('logs/app/db/slow'));
      fire(router, packet('logs'));
      fire(router, packet('plain/x'));

      expect(sensors.seen.map((m) => m.params)).toEqual([
        { site: 'lab', deviceId: 'd1' },
        { site: '', deviceId: 'd2' },
      ]);
      expect(logs.seen.map((m) => m.params)).toEqual([{ path: 'app/db/slow' }, { path: '' }]);
      expect(plain.seen[0].params).toEqual({});
      expect(sensors.seen[0].filter).toBe('sensors/+site/+deviceId/temp');
    });

    describe('a registration that throws leaves no trace', () => {
      it('does not keep the subscriptions of the filters before the invalid one', () => {
        const { router } = setup();
        expect(() => router.register(def('Bad', ['ok/1', 'bad/#/x']))).toThrow(MqttSubscribeError);
        expect(router.brokerSubscriptions()).toEqual([]);

        // A valid handler on the same filter must get it subscribed at the broker.
        const { changed } = router.register(def('Good', 'ok/1'));
        expect(changed.map((s) => s.filter)).toEqual(['ok/1']);
      });

      it('does not keep the subscriptions of the groups before an invalid concurrency', () => {
        const { router } = setup();
        expect(() =>
          router.register({
            name: 'BadConcurrency',
            subscriptions: [
              { filters: ['first'], options: {} },
              { filters: ['second'], options: { concurrency: 0 } },
            ],
            invoke: () => undefined,
          }),
        ).toThrow(MqttSubscribeError);
        expect(router.brokerSubscriptions()).toEqual([]);
        expect(router.register(def('Good', 'first')).changed.map((s) => s.filter)).toEqual([
          'first',
        ]);
      });

      it('does not raise the QoS of an existing subscription', () => {
        const { router } = setup();
        const { changed } = router.register(def('Existing', 'q', { qos: 0 }));
        changed[0].granted = 0;
        expect(() => router.register(def('Bad', ['q', 'bad+']), undefined)).toThrow(
          MqttSubscribeError,
        );
        expect(() => router.register(def('Bad2', ['q', 'bad+'], { qos: 2 }))).toThrow(
          MqttSubscribeError,
        );
        expect(byFilter(router)['q']).toMatchObject({ qos: 0, granted: 0 });
        // Asking for QoS 2 for real must still be reported, to be sent to the broker.
        expect(router.register(def('Good', 'q', { qos: 2 })).changed.map((s) => s.filter)).toEqual([
          'q',
        ]);
      });
    });
  });

  // -------------------------------------------------------------------------------------------
  // dispatch()
  // -------------------------------------------------------------------------------------------

  describe('dispatch()', () => {
    it('runs every matching handler once, in registration order, and no other', () => {
      const { router } = setup();
      const order: string[] = [];
      const mk = (name: string, filter: string) =>
        router.register(
          def(name, filter, {}, () => {
            order.push(name);
          }),
        );
      mk('exact', 'home/kitchen/temp');
      mk('plus', 'home/+/temp');
      mk('hash', 'home/#');
      mk('all', '#');
      mk('other', 'office/+/temp');
      mk('deeper', 'home/kitchen/temp/x');

      fire(router, packet('home/kitchen/temp'));
      expect(order).toEqual(['exact', 'plus', 'hash', 'all']);

      order.length = 0;
      fire(router, packet('office/a/temp'));
      expect(order).toEqual(['all', 'other']);
    });

    it('hands the handler the topic, the payload, the packet and the filter', () => {
      const { router } = setup();
      const rec = recorder();
      router.register(def('H', 'a/+', {}, rec.invoke));
      const p = packet('a/b', 'hello');
      fire(router, p);
      expect(rec.seen).toHaveLength(1);
      const [m] = rec.seen;
      expect(m.topic).toBe('a/b');
      expect(m.payload).toBe(p.payload);
      expect(m.payload.toString()).toBe('hello');
      expect(m.packet).toBe(p);
      expect(m.filter).toBe('a/+');
    });

    it('does not match `$` topics with leading wildcards', () => {
      const { router } = setup();
      const all = recorder();
      const sys = recorder();
      router.register(def('All', '#', {}, all.invoke));
      router.register(def('Sys', '$SYS/#', {}, sys.invoke));
      expect(router.dispatch(packet('$SYS/uptime'), true)).toBeInstanceOf(Promise);
      expect(all.seen).toEqual([]);
      expect(sys.topics()).toEqual(['$SYS/uptime']);
    });

    it('runs one handler with overlapping filters once per message', () => {
      const { router } = setup();
      const rec = recorder();
      router.register(def('Overlap', ['a/+', 'a/#', 'a/b'], {}, rec.invoke));
      fire(router, packet('a/b'));
      fire(router, packet('a/c'));
      fire(router, packet('a/b/c'));
      fire(router, packet('a'));
      expect(rec.seen.map((m) => [m.topic, m.filter])).toEqual([
        ['a/b', 'a/+'],
        ['a/c', 'a/+'],
        ['a/b/c', 'a/#'],
        ['a', 'a/#'],
      ]);
    });

    it('returns undefined when no handler matches', () => {
      const { router } = setup();
      const rec = recorder();
      expect(router.dispatch(packet('x'), true)).toBeUndefined();
      router.register(def('H', 'a', {}, rec.invoke));
      expect(router.dispatch(packet('b'), true)).toBeUndefined();
      expect(router.dispatch(packet('b'), false)).toBeUndefined();
      expect(rec.seen).toEqual([]);
    });

    it('returns undefined without `track`, yet runs the handlers', () => {
      const { router } = setup();
      const rec = recorder();
      router.register(def('H', 'a', {}, rec.invoke));
      expect(router.dispatch(packet('a'), false)).toBeUndefined();
      expect(rec.topics()).toEqual(['a']);
    });

    it('settles a tracked dispatch only after every asynchronous handler finished', async () => {
      const { router } = setup();
      const one = gated();
      const two = gated();
      router.register(def('One', 'a/#', {}, one.invoke));
      router.register(def('Two', 'a/+', {}, two.invoke));

      const state = watch(router.dispatch(packet('a/b'), true));
      expect(one.runs).toHaveLength(1);
      expect(two.runs).toHaveLength(1);
      await flush();
      expect(state.settled).toBe(false);

      one.runs[0].gate.resolve();
      await flush();
      expect(state.settled).toBe(false);

      two.runs[0].gate.resolve();
      await flush();
      expect(state).toEqual({ settled: true, rejected: false });
    });

    it('settles a tracked dispatch of synchronous handlers', async () => {
      const { router } = setup();
      router.register(def('Sync', 'a', {}, () => undefined));
      const tracked = router.dispatch(packet('a'), true);
      await expect(tracked).resolves.toBeUndefined();
    });

    it('reports sync throws and async rejections, runs the others, never rejects', async () => {
      const { router, errors } = setup();
      const boom = new Error('sync boom');
      const nope = new Error('async nope');
      const gate = deferred();
      const others = recorder();
      router.register(
        def('Thrower', 'e/+', {}, () => {
          throw boom;
        }),
      );
      router.register(
        def('Rejecter', 'e/#', {}, () => gate.promise.then(() => Promise.reject(nope))),
      );
      router.register(def('Fine', 'e/+', {}, others.invoke));

      const state = watch(router.dispatch(packet('e/1'), true));
      expect(others.topics()).toEqual(['e/1']);
      expect(errors).toEqual([{ handler: 'Thrower', topic: 'e/1', filter: 'e/+', value: boom }]);
      await flush();
      expect(state.settled).toBe(false);

      gate.resolve();
      await flush();
      expect(errors).toEqual([
        { handler: 'Thrower', topic: 'e/1', filter: 'e/+', value: boom },
        { handler: 'Rejecter', topic: 'e/1', filter: 'e/#', value: nope },
      ]);
      expect(state).toEqual({ settled: true, rejected: false });
      expect(router.inFlight).toBe(0);
    });

    it('a failing handler keeps running later messages', async () => {
      const { router, errors } = setup();
      let calls = 0;
      router.register(
        def('Flaky', 'f', {}, () => {
          calls++;
          if (calls === 1) throw new Error('first fails');
          return Promise.reject(new Error('second fails'));
        }),
      );
      await router.dispatch(packet('f'), true);
      await router.dispatch(packet('f'), true);
      fire(router, packet('f'));
      await flush();
      expect(calls).toBe(3);
      expect(errors.map((e) => (e.value as Error).message)).toEqual([
        'first fails',
        'second fails',
        'second fails',
      ]);
    });

    it('settles without a listener when handlers fail', async () => {
      const router = new MqttRouter();
      router.register(
        def('Thrower', 'a', {}, () => {
          throw new Error('x');
        }),
      );
      router.register(def('Rejecter', 'a', {}, () => Promise.reject(new Error('y'))));
      router.register(def('Result', 'a', {}, () => 42));
      await expect(router.dispatch(packet('a'), true)).resolves.toBeUndefined();
      expect(router.inFlight).toBe(0);
    });

    it('reports non-undefined return values, sync and async, to onHandlerResult', async () => {
      const { router, results } = setup();
      const gate = deferred<string>();
      router.register(def('SyncValue', 'r', {}, () => 42));
      router.register(def('AsyncValue', 'r', {}, () => gate.promise));
      router.register(def('SyncUndefined', 'r', {}, () => undefined));
      router.register(def('AsyncUndefined', 'r', {}, () => Promise.resolve(undefined)));
      router.register(def('Null', 'r', {}, () => null));
      router.register(def('Zero', 'r', {}, () => Promise.resolve(0)));

      const state = watch(router.dispatch(packet('r'), true));
      await flush();
      expect(results).toEqual([
        { handler: 'SyncValue', topic: 'r', filter: 'r', value: 42 },
        { handler: 'Null', topic: 'r', filter: 'r', value: null },
        { handler: 'Zero', topic: 'r', filter: 'r', value: 0 },
      ]);
      expect(state.settled).toBe(false);

      gate.resolve('reply');
      await flush();
      expect(results[3]).toEqual({
        handler: 'AsyncValue',
        topic: 'r',
        filter: 'r',
        value: 'reply',
      });
      expect(results).toHaveLength(4);
      expect(state.settled).toBe(true);
    });

    it('waits for a promise returned by onHandlerError before settling', async () => {
      const { router, errors, hooks } = setup();
      const deadLetter = deferred();
      hooks.onError = () => deadLetter.promise;
      router.register(
        def('Thrower', 'd', {}, () => {
          throw new Error('to the dead letter queue');
        }),
      );

      const state = watch(router.dispatch(packet('d'), true));
      expect(errors).toHaveLength(1);
      await flush();
      expect(state.settled).toBe(false);
      expect(router.inFlight).toBe(1);

      deadLetter.resolve();
      await flush();
      expect(state).toEqual({ settled: true, rejected: false });
      expect(router.inFlight).toBe(0);
    });

    it('settles even when the promise of onHandlerError rejects', async () => {
      const { router, hooks } = setup();
      const deadLetter = deferred();
      hooks.onError = () => deadLetter.promise;
      router.register(def('Rejecter', 'd', {}, () => Promise.reject(new Error('x'))));

      const state = watch(router.dispatch(packet('d'), true));
      await flush();
      expect(state.settled).toBe(false);
      deadLetter.reject(new Error('dead letter failed'));
      await flush();
      expect(state).toEqual({ settled: true, rejected: false });
    });

    it('holds the next queued message of a handler until onHandlerError settled', async () => {
      const { router, hooks } = setup();
      const deadLetter = deferred();
      hooks.onError = () => deadLetter.promise;
      const seen: string[] = [];
      router.register(
        def('Serial', 's', {}, (m) => {
          seen.push(m.payload.toString());
          if (m.payload.toString() === '1') throw new Error('fail');
        }),
      );
      fire(router, packet('s', '1'));
      fire(router, packet('s', '2'));
      await flush();
      expect(seen).toEqual(['1']);
      deadLetter.resolve();
      await flush();
      expect(seen).toEqual(['1', '2']);
    });
  });

  // -------------------------------------------------------------------------------------------
  // MQTT 5 subscription identifiers
  // -------------------------------------------------------------------------------------------

  describe('MQTT 5 subscription identifiers', () => {
    it('runs a handler with two overlapping subscriptions once for the two copies', async () => {
      const { router } = setup();
      const rec = recorder();
      router.register(def('Both', ['a/+', 'a/#'], {}, rec.invoke));
      const subs = byFilter(router);
      const plus = subs['a/+'].id;
      const hash = subs['a/#'].id;
      expect(plus).not.toBe(hash);

      const first = router.dispatch(copyFor('a/b', plus), true);
      const second = router.dispatch(copyFor('a/b', hash), true);
      await Promise.all([first, second]);
      expect(rec.seen).toHaveLength(1);
      expect(rec.seen[0].filter).toBe('a/+');

      // Copies arriving in the other order: still once.
      rec.seen.length = 0;
      fire(router, copyFor('a/c', hash));
      fire(router, copyFor('a/c', plus));
      expect(rec.topics()).toEqual(['a/c']);

      // A topic only 'a/#' matches comes in one copy, and runs.
      rec.seen.length = 0;
      fire(router, copyFor('a/b/c', hash));
      expect(rec.seen.map((m) => m.filter)).toEqual(['a/#']);
    });

    it('runs each of two handlers on the copy of its own subscription', () => {
      const { router } = setup();
      const plus = recorder();
      const hash = recorder();
      router.register(def('Plus', 'a/+', {}, plus.invoke));
      router.register(def('Hash', 'a/#', {}, hash.invoke));
      const subs = byFilter(router);

      fire(router, copyFor('a/b', subs['a/+'].id, 'for plus'));
      expect(plus.seen.map((m) => m.payload.toString())).toEqual(['for plus']);
      expect(hash.seen).toEqual([]);

      fire(router, copyFor('a/b', subs['a/#'].id, 'for hash'));
      expect(plus.seen).toHaveLength(1);
      expect(hash.seen.map((m) => m.payload.toString())).toEqual(['for hash']);
    });

    it('runs both handlers once for one copy carrying both identifiers', () => {
      const { router } = setup();
      const plus = recorder();
      const hash = recorder();
      const both = recorder();
      router.register(def('Plus', 'a/+', {}, plus.invoke));
      router.register(def('Hash', 'a/#', {}, hash.invoke));
      router.register(def('Both', ['a/#', 'a/+'], {}, both.invoke));
      const subs = byFilter(router);

      fire(router, copyFor('a/b', [subs['a/+'].id, subs['a/#'].id]));
      expect(plus.topics()).toEqual(['a/b']);
      expect(hash.topics()).toEqual(['a/b']);
      expect(both.topics()).toEqual(['a/b']);
    });

    it('runs nothing for a copy of a subscription no matching handler holds', () => {
      const { router } = setup();
      const rec = recorder();
      router.register(def('A', 'a/+', {}, rec.invoke));
      router.register(def('Other', 'zzz'));
      const other = byFilter(router)['zzz'].id;
      expect(router.dispatch(copyFor('a/b', other), true)).toBeUndefined();
      expect(rec.seen).toEqual([]);
    });

    it('routes by identifier for shared subscriptions too', () => {
      const { router } = setup();
      const shared = recorder();
      const plain = recorder();
      router.register(def('Shared', 'a/+', {}, shared.invoke), 'g');
      router.register(def('Plain', 'a/+', { share: false }, plain.invoke), 'g');
      const subs = byFilter(router);
      fire(router, copyFor('a/1', subs['$share/g/a/+'].id));
      expect(shared.topics()).toEqual(['a/1']);
      expect(plain.seen).toEqual([]);
      fire(router, copyFor('a/1', subs['a/+'].id));
      expect(shared.seen).toHaveLength(1);
      expect(plain.topics()).toEqual(['a/1']);
    });
  });

  // -------------------------------------------------------------------------------------------
  // Flow control
  // -------------------------------------------------------------------------------------------

  describe('flow control', () => {
    it('concurrency 1 runs the messages of a handler one at a time, in order', async () => {
      const { router } = setup();
      const h = gated();
      router.register(def('Ordered', 'q', {}, h.invoke));
      const states = [0, 1, 2, 3, 4].map((i) =>
        watch(router.dispatch(packet('q', String(i)), true)),
      );
      expect(h.payloads()).toEqual(['0']);
      expect(router.inFlight).toBe(5);

      for (let i = 0; i < 5; i++) {
        await flush();
        expect(h.payloads()).toEqual(['0', '1', '2', '3', '4'].slice(0, i + 1));
        expect(states.map((s) => s.settled)).toEqual(states.map((_, j) => j < i));
        h.runs[i].gate.resolve();
      }
      await flush();
      expect(states.every((s) => s.settled && !s.rejected)).toBe(true);
      expect(h.maxActive).toBe(1);
      expect(router.inFlight).toBe(0);
    });

    it('concurrency 3 never runs more than 3 messages at once', async () => {
      const { router } = setup();
      const h = gated();
      router.register(def('Parallel', 'p', { concurrency: 3 }, h.invoke));
      for (let i = 0; i < 10; i++) fire(router, packet('p', String(i)));
      expect(h.active).toBe(3);
      expect(router.inFlight).toBe(10);

      // Finish the runs in a scrambled order, one at a time.
      const finishOrder = [2, 0, 1, 5, 3, 4, 8, 6, 7, 9];
      for (const i of finishOrder) {
        await flush();
        expect(h.active).toBeLessThanOrEqual(3);
        h.runs[i].gate.resolve();
      }
      await flush();
      expect(h.runs).toHaveLength(10);
      expect(h.maxActive).toBe(3);
      expect(h.payloads().sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(router.inFlight).toBe(0);
    });

    it('gives each handler its own queue: a slow handler does not hold up another', () => {
      const { router } = setup();
      const slow = gated();
      const fast = recorder();
      router.register(def('Slow', 'x', {}, slow.invoke));
      router.register(def('Fast', 'x', {}, fast.invoke));
      for (let i = 0; i < 3; i++) fire(router, packet('x', String(i)));
      expect(slow.runs).toHaveLength(1);
      expect(fast.seen.map((m) => m.payload.toString())).toEqual(['0', '1', '2']);
      expect(router.inFlight).toBe(3);
    });

    it('is saturated at the queue limit; whenDrained() resolves at half of it', async () => {
      const { router } = setup(4);
      const h = gated();
      router.register(def('Slow', 's', {}, h.invoke));

      expect(router.saturated).toBe(false);
      await expect(router.whenDrained()).resolves.toBeUndefined();

      fire(router, packet('s', '0')); // runs
      for (let i = 1; i <= 3; i++) fire(router, packet('s', String(i)));
      expect(router.saturated).toBe(false); // 3 queued
      fire(router, packet('s', '4'));
      expect(router.saturated).toBe(true); // 4 queued
      expect(router.inFlight).toBe(5);

      let drained = false;
      void router.whenDrained().then(() => {
        drained = true;
      });
      let drainedToo = false;
      void router.whenDrained().then(() => {
        drainedToo = true;
      });

      h.runs[0].gate.resolve(); // 3 queued
      await flush();
      expect(router.saturated).toBe(false);
      expect(drained).toBe(false);

      h.runs[1].gate.resolve(); // 2 queued: half of 4
      await flush();
      expect(drained).toBe(true);
      expect(drainedToo).toBe(true);
      await expect(router.whenDrained()).resolves.toBeUndefined();

      for (let i = 2; i <= 4; i++) {
        h.runs[i].gate.resolve();
        await flush();
      }
      expect(router.inFlight).toBe(0);
    });

    it('counts the queues of every handler towards saturation', () => {
      const { router } = setup(2);
      const a = gated();
      const b = gated();
      router.register(def('A', 'x', {}, a.invoke));
      router.register(def('B', 'x', {}, b.invoke));
      fire(router, packet('x')); // both run
      expect(router.saturated).toBe(false);
      fire(router, packet('x')); // one queued each
      expect(router.saturated).toBe(true);
      expect(router.inFlight).toBe(4);
    });

    it('uses the default limit when none (or a non-positive one) is given', () => {
      const { router } = setup(0);
      const h = gated();
      router.register(def('Slow', 's', {}, h.invoke));
      for (let i = 0; i < 100; i++) fire(router, packet('s'));
      expect(router.saturated).toBe(false);
      expect(router.inFlight).toBe(100);
    });

    it('inFlight counts running and queued messages', async () => {
      const { router } = setup();
      const h = gated();
      router.register(def('Two', 'i', { concurrency: 2 }, h.invoke));
      expect(router.inFlight).toBe(0);
      for (let i = 0; i < 5; i++) fire(router, packet('i'));
      expect(router.inFlight).toBe(5);
      h.runs[0].gate.resolve();
      await flush();
      expect(router.inFlight).toBe(4);
      h.runs[1].gate.resolve();
      h.runs[2].gate.resolve();
      await flush();
      expect(router.inFlight).toBe(2);
      for (const run of h.runs) run.gate.resolve();
      await flush();
      expect(router.inFlight).toBe(0);
    });

    it('stopIntake(): later messages are not run; a tracked one never settles', async () => {
      const { router } = setup();
      const h = gated();
      router.register(def('H', 'a', {}, h.invoke));
      const before = watch(router.dispatch(packet('a', 'before'), true));

      router.stopIntake();
      expect(router.dispatch(packet('a', 'after'), false)).toBeUndefined();
      const tracked = router.dispatch(packet('a', 'after-tracked'), true);
      expect(tracked).toBeInstanceOf(Promise);
      expect(router.dispatch(packet('nobody'), false)).toBeUndefined();

      // What was taken in before still finishes.
      h.runs[0].gate.resolve();
      await flush();
      expect(before.settled).toBe(true);
      expect(h.payloads()).toEqual(['before']);
      expect(router.inFlight).toBe(0);
      await expect(raceTimer(tracked!)).resolves.toBe('pending');
      expect(h.payloads()).toEqual(['before']);
    });

    it('idle() is true at once when nothing is in flight', async () => {
      const { router } = setup();
      await expect(router.idle(1)).resolves.toBe(true);
    });

    it('idle() is true once every handler finished and every queue drained', async () => {
      const { router } = setup();
      const a = gated();
      const b = gated();
      router.register(def('A', 'x', {}, a.invoke));
      router.register(def('B', 'x', {}, b.invoke));
      fire(router, packet('x'));
      fire(router, packet('x'));

      let idle: boolean | undefined;
      void router.idle(60_000).then((value) => {
        idle = value;
      });
      a.runs[0].gate.resolve();
      await flush();
      a.runs[1].gate.resolve();
      b.runs[0].gate.resolve();
      await flush();
      expect(idle).toBeUndefined();
      b.runs[1].gate.resolve();
      await flush();
      expect(idle).toBe(true);
    });

    it('idle() is false when the timeout comes first', async () => {
      const { router } = setup();
      const h = gated();
      router.register(def('Stuck', 'x', {}, h.invoke));
      fire(router, packet('x'));
      await expect(router.idle(5)).resolves.toBe(false);
      h.runs[0].gate.resolve();
      await flush();
      await expect(router.idle(5)).resolves.toBe(true);
    });
  });

  // -------------------------------------------------------------------------------------------
  // unregister() / removeFilter()
  // -------------------------------------------------------------------------------------------

  describe('unregister()', () => {
    it('returns the broker filters no remaining handler needs', () => {
      const { router } = setup();
      const a = recorder();
      const b = recorder();
      const { handler: ha } = router.register(def('A', ['a', 'shared/+'], {}, a.invoke));
      const { handler: hb } = router.register(def('B', ['shared/+', 'b'], {}, b.invoke));

      expect(router.unregister(ha)).toEqual(['a']);
      expect(brokerFilters(router)).toEqual(['b', 'shared/+']);
      expect(router.allHandlers()).toEqual([hb]);
      fire(router, packet('shared/1'));
      fire(router, packet('a'));
      expect(a.seen).toEqual([]);
      expect(b.topics()).toEqual(['shared/1']);

      expect(router.unregister(hb).sort()).toEqual(['b', 'shared/+']);
      expect(router.brokerSubscriptions()).toEqual([]);
      expect(router.allHandlers()).toEqual([]);
      expect(router.dispatch(packet('shared/1'), true)).toBeUndefined();
      expect(router.unregister(hb)).toEqual([]);
    });

    it('returns the `$share/…` filter of a shared handler', () => {
      const { router } = setup();
      const { handler } = router.register(def('S', 'x/+id'), 'g');
      expect(router.unregister(handler)).toEqual(['$share/g/x/+']);
    });

    it('returns each filter once for a handler with duplicate or equivalent filters', () => {
      const { router } = setup();
      const { handler } = router.register(def('Dup', ['a/+x', 'a/+', 'a/+y']));
      expect(brokerFilters(router)).toEqual(['a/+']);
      expect(router.unregister(handler)).toEqual(['a/+']);
    });
  });

  describe('removeFilter()', () => {
    it('keeps the other filter of a handler working', () => {
      const { router } = setup();
      const rec = recorder();
      const { handler } = router.register(def('Two', ['a/+', 'b/+'], {}, rec.invoke));
      expect(router.removeFilter('a/+')).toEqual(['a/+']);
      expect(handler.filters).toEqual(['b/+']);
      expect(brokerFilters(router)).toEqual(['b/+']);
      fire(router, packet('a/1'));
      fire(router, packet('b/1'));
      expect(rec.topics()).toEqual(['b/1']);
      expect(router.allHandlers()).toEqual([handler]);
    });

    it('keeps an overlapping filter of the same handler working', () => {
      const { router } = setup();
      const rec = recorder();
      router.register(def('Overlap', ['a/+', 'a/#'], {}, rec.invoke));
      const hashId = byFilter(router)['a/#'].id;
      expect(router.removeFilter('a/+')).toEqual(['a/+']);
      fire(router, packet('a/1'));
      fire(router, copyFor('a/2', hashId));
      expect(rec.seen.map((m) => [m.topic, m.filter])).toEqual([
        ['a/1', 'a/#'],
        ['a/2', 'a/#'],
      ]);
    });

    it('keeps a handler whose other filter has the same match filter', () => {
      const { router } = setup();
      const rec = recorder();
      router.register(def('Mixed', ['a/+', '$share/g/a/+'], {}, rec.invoke));
      expect(brokerFilters(router)).toEqual(['$share/g/a/+', 'a/+']);
      expect(router.removeFilter('a/+')).toEqual(['a/+']);
      fire(router, packet('a/1'));
      expect(rec.seen.map((m) => m.filter)).toEqual(['$share/g/a/+']);
    });

    it('returns the filter only when no other handler needs it', () => {
      const { router } = setup();
      const a = recorder();
      const b = recorder();
      const { handler: ha } = router.register(def('A', ['s', 'only-a'], {}, a.invoke));
      router.register(def('B', 's', {}, b.invoke));
      const { handler: hc } = router.register(def('C', 'only-c'));

      // 's' leaves both A and B: B had no other filter, so it is gone.
      expect(router.removeFilter('s')).toEqual(['s']);
      expect(router.allHandlers()).toEqual(expect.arrayContaining([ha, hc]));
      expect(router.allHandlers()).toHaveLength(2);
      fire(router, packet('s'));
      fire(router, packet('only-a'));
      expect(a.topics()).toEqual(['only-a']);
      expect(b.seen).toEqual([]);
      expect(router.removeFilter('s')).toEqual([]);
      expect(router.removeFilter('never/registered')).toEqual([]);
    });

    it('removes a shared filter given in its `$share/<group>/…` form', () => {
      const { router } = setup();
      const rec = recorder();
      const plain = recorder();
      const { handler } = router.register(def('S', ['x/+id', 'y'], {}, rec.invoke), 'g');
      router.register(def('P', 'x/+', { share: false }, plain.invoke), 'g');

      expect(router.removeFilter('$share/g/x/+')).toEqual(['$share/g/x/+']);
      expect(handler.filters).toEqual(['y']);
      expect(brokerFilters(router)).toEqual(['$share/g/y', 'x/+']);
      fire(router, packet('x/1'));
      fire(router, packet('y'));
      expect(rec.topics()).toEqual(['y']);
      expect(plain.topics()).toEqual(['x/1']);
    });

    it('removes a shared filter given as written (from every handler using it)', () => {
      const { router } = setup();
      const { handler } = router.register(def('S', ['x/+', 'y']), 'g');
      router.register(def('P', 'x/+', { share: false }), 'g');
      expect(router.removeFilter('x/+').sort()).toEqual(['$share/g/x/+', 'x/+']);
      expect(handler.filters).toEqual(['y']);
      expect(brokerFilters(router)).toEqual(['$share/g/y']);
    });
  });

  // -------------------------------------------------------------------------------------------
  // Topic cache
  // -------------------------------------------------------------------------------------------

  describe('topic cache', () => {
    it('stays correct across register / unregister / removeFilter between dispatches', () => {
      const { router } = setup();
      const a = recorder();
      const b = recorder();
      const names = () => {
        const seen: string[] = [];
        if (a.seen.length) seen.push('A');
        if (b.seen.length) seen.push('B');
        a.seen.length = 0;
        b.seen.length = 0;
        return seen;
      };

      fire(router, packet('t/1')); // cached as "no handler"
      const { handler: ha } = router.register(def('A', 't/+', {}, a.invoke));
      fire(router, packet('t/1'));
      expect(names()).toEqual(['A']);

      const { handler: hb } = router.register(def('B', ['t/#', 'u'], {}, b.invoke));
      fire(router, packet('t/1'));
      expect(names()).toEqual(['A', 'B']);

      router.unregister(ha);
      fire(router, packet('t/1'));
      expect(names()).toEqual(['B']);

      router.removeFilter('t/#');
      fire(router, packet('t/1'));
      expect(names()).toEqual([]);
      expect(router.dispatch(packet('t/1'), true)).toBeUndefined();

      fire(router, packet('u'));
      expect(names()).toEqual(['B']);
      router.unregister(hb);
      fire(router, packet('u'));
      expect(names()).toEqual([]);
    });

    it('routes 20,000 distinct topics right (cache bypassed), then repeated topics too', () => {
      const { router } = setup();
      const dev = recorder();
      const all = recorder();
      const other = recorder();
      router.register(def('Dev', 'dev/+id/temp', {}, dev.invoke));
      router.register(def('All', 'dev/#', {}, all.invoke));
      router.register(def('Other', 'other/+', {}, other.invoke));

      const N = 20_000;
      let devCount = 0;
      for (let i = 0; i < N; i++) {
        if (i % 3 === 0) {
          fire(router, packet(`other/${i}`));
        } else {
          fire(router, packet(`dev/${i}/temp`));
          devCount++;
        }
        if (i % 5 === 0) fire(router, packet(`nobody/${i}`));
      }
      expect(dev.seen).toHaveLength(devCount);
      expect(all.seen).toHaveLength(devCount);
      expect(other.seen).toHaveLength(N - devCount);
      expect(dev.seen.every((m) => m.params.id === m.topic.split('/')[1])).toBe(true);
      expect(all.seen.every((m, i) => m.topic === dev.seen[i].topic)).toBe(true);
      expect(other.seen.every((m) => m.topic.startsWith('other/'))).toBe(true);

      // Repeated topics, with handler changes in between.
      for (const s of [dev.seen, all.seen, other.seen]) s.length = 0;
      for (let i = 0; i < 5; i++) fire(router, packet('dev/1/temp'));
      expect(dev.seen).toHaveLength(5);
      expect(all.seen).toHaveLength(5);

      const late = recorder();
      const { handler } = router.register(def('Late', 'dev/1/+', {}, late.invoke));
      fire(router, packet('dev/1/temp'));
      expect(late.topics()).toEqual(['dev/1/temp']);
      router.unregister(handler);
      fire(router, packet('dev/1/temp'));
      expect(late.seen).toHaveLength(1);
      expect(dev.seen).toHaveLength(7);
    });

    it('stays correct when the cache is switched back on after a run of distinct topics', () => {
      const { router } = setup();
      const hits: string[] = [];
      const { handler } = router.register(
        def('Any', 'z/+', {}, (m) => {
          hits.push(m.topic);
        }),
      );
      // Enough lookups for the cache to be bypassed and then sampled again.
      const N = 4096 * 20;
      for (let i = 0; i < N; i++) fire(router, packet(`z/${i}`));
      expect(hits).toHaveLength(N);

      // A hot topic, with changes between its dispatches, in every phase of the cache.
      const late: string[] = [];
      for (let round = 0; round < 3 * 4096; round++) {
        hits.length = 0;
        fire(router, packet('z/hot'));
        expect(hits).toEqual(['z/hot']);
        if (round % 1000 === 0) {
          const added = router.register(
            def('Late', 'z/hot', {}, (m) => {
              late.push(m.topic);
            }),
          );
          fire(router, packet('z/hot'));
          router.unregister(added.handler);
          fire(router, packet('z/hot'));
        }
      }
      expect(late).toHaveLength(Math.ceil((3 * 4096) / 1000));

      router.unregister(handler);
      hits.length = 0;
      expect(router.dispatch(packet('z/hot'), true)).toBeUndefined();
      expect(hits).toEqual([]);
    });

    it('stays correct when the cache fills up and starts over', () => {
      const { router } = setup();
      const seen: string[] = [];
      router.register(
        def('K', 'k/+', {}, (m) => {
          seen.push(m.topic);
        }),
      );
      // Half the lookups are hits, so the cache stays on while more than 10,000 topics pass.
      for (let i = 0; i < 25_000; i++) {
        fire(router, packet('k/hot'));
        fire(router, packet(`k/${i}`));
      }
      expect(seen).toHaveLength(50_000);
      const late: string[] = [];
      router.register(
        def('Late', 'k/hot', {}, (m) => {
          late.push(m.topic);
        }),
      );
      fire(router, packet('k/hot'));
      fire(router, packet('k/1'));
      expect(late).toEqual(['k/hot']);
      expect(seen.slice(-2)).toEqual(['k/hot', 'k/1']);
    });
  });
});

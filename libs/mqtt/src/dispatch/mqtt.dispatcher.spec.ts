import type { IPublishPacket } from 'mqtt';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import type { MqttQos, MqttSubscribeOptions } from '../interfaces/subscribe-options.interface';
import { MqttRouter, type RoutedHandler } from '../routing/mqtt.router';
import {
  ABANDONED,
  MqttDispatcher,
  type MqttDispatcherOptions,
  type MqttOutcome,
  type MqttRunResult,
} from './mqtt.dispatcher';
import { deferred, flush, type Deferred } from './dispatch.spec-helpers';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function packet(topic: string, payload = '', qos: MqttQos = 1): IPublishPacket {
  return { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false };
}

type Ran = MqttOutcome | typeof ABANDONED | 'rejected' | undefined;

/** What a run settled with, observed without awaiting it. */
function watch(result: MqttRunResult): { settled: boolean; value?: Ran } {
  const state: { settled: boolean; value?: Ran } = { settled: false };
  if (result instanceof Promise) {
    result.then(
      (value) => Object.assign(state, { settled: true, value }),
      () => Object.assign(state, { settled: true, value: 'rejected' }),
    );
  } else {
    Object.assign(state, { settled: true, value: result });
  }
  return state;
}

/** The outcome a run settled with; throws on anything else. */
function outcome(value: unknown): MqttOutcome {
  if (
    value === ABANDONED ||
    value === undefined ||
    value === 'rejected' ||
    value instanceof Promise
  ) {
    const what =
      value === ABANDONED ? 'ABANDONED' : value instanceof Promise ? 'a promise' : `${value}`;
    throw new Error(`not an outcome: ${what}`);
  }
  return value as MqttOutcome;
}

/** [handler, kind] of an outcome. */
function kind(value: unknown): [string, string] {
  const o = outcome(value);
  return [o.route.handler.name, o.kind];
}

/**
 * A router and a dispatcher; `send` routes a packet and runs each of its routes, returning what
 * `run` returned for each, by handler name.
 */
function setup(options: Partial<MqttDispatcherOptions> = {}) {
  const router = new MqttRouter();
  const dispatcher = new MqttDispatcher({ handlerTimeout: 0, qos0QueueLimit: 1000, ...options });
  const add = (
    name: string,
    filter: string,
    invoke: (message: MqttMessage) => unknown,
    opts: MqttSubscribeOptions = {},
  ): RoutedHandler =>
    router.register({ name, subscriptions: [{ filters: [filter], options: opts }], invoke })
      .handler;
  const send = (
    topic: string,
    payload = '',
    qos: MqttQos = 1,
    reportAll = false,
  ): Record<string, MqttRunResult> => {
    const results: Record<string, MqttRunResult> = {};
    for (const route of router.route(packet(topic, payload, qos))) {
      results[route.handler.name] = dispatcher.run(route, reportAll);
    }
    return results;
  };
  /** Sends to a topic with one handler; returns what `run` returned for it. */
  const sendOne = (topic: string, payload = '', qos: MqttQos = 1, reportAll = false) => {
    const results = Object.values(send(topic, payload, qos, reportAll));
    if (results.length !== 1) throw new Error(`${results.length} routes for ${topic}`);
    return results[0];
  };
  return { router, dispatcher, add, send, sendOne };
}

/** A handler that records every message it receives. */
function recorder() {
  const seen: string[] = [];
  return {
    seen,
    invoke: (message: MqttMessage): undefined => {
      seen.push(message.payload.toString());
      return undefined;
    },
  };
}

/** An asynchronous handler whose runs each wait for their own gate. */
function gated() {
  const runs: Array<{ payload: string; gate: Deferred<unknown> }> = [];
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
    payloads: () => runs.map((r) => r.payload),
    invoke: (message: MqttMessage): Promise<unknown> => {
      const gate = deferred<unknown>();
      runs.push({ payload: message.payload.toString(), gate });
      active++;
      maxActive = Math.max(maxActive, active);
      return gate.promise.finally(() => {
        active--;
      });
    },
  };
}

describe('MqttDispatcher', () => {
  describe('run()', () => {
    it('returns undefined when the handler finished at once with nothing to report', () => {
      const { add, send } = setup();
      const a = recorder();
      const b = recorder();
      add('A', 'x', a.invoke);
      add('B', 'x', b.invoke);
      expect(send('x', '1')).toEqual({ A: undefined, B: undefined });
      expect([a.seen, b.seen]).toEqual([['1'], ['1']]);
    });

    it('returns the outcome at once when the handler settled synchronously', () => {
      const { add, send } = setup();
      const boom = new Error('boom');
      add('Value', 'x', () => 42);
      add('Nothing', 'x', () => undefined);
      add('Thrower', 'x', () => {
        throw boom;
      });
      const results = send('x');
      expect(results.Nothing).toBeUndefined();
      expect(kind(results.Value)).toEqual(['Value', 'handled']);
      expect(kind(results.Thrower)).toEqual(['Thrower', 'failed']);
      expect(outcome(results.Value).result).toBe(42);
      expect(outcome(results.Thrower).error).toBe(boom);
    });

    it("settles each route when its own handler finished, not when the message's others did", async () => {
      const { add, send } = setup();
      const one = gated();
      const two = gated();
      add('One', 'a/#', one.invoke);
      add('Two', 'a/+', two.invoke);

      const results = send('a/b');
      const first = watch(results.One);
      const second = watch(results.Two);
      expect([one.runs.length, two.runs.length]).toEqual([1, 1]);
      await flush();
      expect([first.settled, second.settled]).toEqual([false, false]);
      one.runs[0].gate.resolve('one');
      await flush();
      expect(kind(first.value)).toEqual(['One', 'handled']);
      expect(second.settled).toBe(false);
      two.runs[0].gate.resolve(undefined);
      await flush();
      expect(second).toEqual({ settled: true, value: undefined });
    });

    it('reports sync throws and async rejections, runs the others, never rejects', async () => {
      const { dispatcher, add, send } = setup();
      const boom = new Error('sync boom');
      const nope = new Error('async nope');
      const gate = deferred();
      const others = recorder();
      add('Thrower', 'e/+', () => {
        throw boom;
      });
      add('Rejecter', 'e/#', () => gate.promise.then(() => Promise.reject(nope)));
      add('Fine', 'e/+', others.invoke);

      const results = send('e/1', 'p');
      const thrown = watch(results.Thrower);
      const rejected = watch(results.Rejecter);
      expect(others.seen).toEqual(['p']);
      expect(results.Fine).toBeUndefined();
      expect(kind(thrown.value)).toEqual(['Thrower', 'failed']);
      await flush();
      expect(rejected.settled).toBe(false);
      gate.resolve();
      await flush();
      expect(kind(rejected.value)).toEqual(['Rejecter', 'failed']);
      const thrower = outcome(thrown.value);
      const rejecter = outcome(rejected.value);
      expect([thrower.error, thrower.route.message.filter]).toEqual([boom, 'e/+']);
      expect([rejecter.error, rejecter.route.message.filter]).toEqual([nope, 'e/#']);
      expect([dispatcher.running, dispatcher.queued]).toEqual([0, 0]);
    });

    it('a failing handler keeps running later messages', async () => {
      const { sendOne, add } = setup();
      let calls = 0;
      add('Flaky', 'f', () => {
        calls++;
        if (calls === 1) throw new Error('first fails');
        return Promise.reject(new Error('second fails'));
      });
      const first = sendOne('f');
      const second = await sendOne('f');
      const third = await sendOne('f');
      expect(calls).toBe(3);
      const errors = [first, second, third].map((r) => (outcome(r).error as Error).message);
      expect(errors).toEqual(['first fails', 'second fails', 'second fails']);
    });

    it('reports non-undefined return values, sync and async', async () => {
      const { add, send } = setup();
      const gate = deferred<string>();
      add('SyncValue', 'r', () => 42);
      add('AsyncValue', 'r', () => gate.promise);
      add('SyncUndefined', 'r', () => undefined);
      add('AsyncUndefined', 'r', () => Promise.resolve(undefined));
      add('Null', 'r', () => null);
      add('Zero', 'r', () => Promise.resolve(0));

      const states = Object.entries(send('r')).map(([name, r]) => [name, watch(r)] as const);
      await flush();
      expect(states.filter(([, s]) => !s.settled).map(([name]) => name)).toEqual(['AsyncValue']);
      gate.resolve('reply');
      await flush();
      const reported = states
        .filter(([, s]) => s.value !== undefined)
        .map(([, s]) => outcome(s.value))
        .map((o) => [o.route.handler.name, o.kind, o.result]);
      expect(reported).toEqual([
        ['SyncValue', 'handled', 42],
        ['AsyncValue', 'handled', 'reply'],
        ['Null', 'handled', null],
        ['Zero', 'handled', 0],
      ]);
      expect(states.every(([, s]) => s.settled && s.value !== 'rejected')).toBe(true);
    });

    it('with reportAll, reports every call; a queued message keeps the flag of its run', async () => {
      const { add, sendOne } = setup();
      const h = gated();
      add('Sync', 'x', () => undefined);
      add('Async', 'y', h.invoke);
      expect(kind(sendOne('x', '', 1, true))).toEqual(['Sync', 'handled']);
      const reported = watch(sendOne('y', '1', 1, true));
      const quiet = watch(sendOne('y', '2', 1, false)); // queued behind the first
      expect(sendOne('x')).toBeUndefined();
      h.runs[0].gate.resolve(undefined);
      await flush();
      h.runs[1].gate.resolve(undefined);
      await flush();
      expect(kind(reported.value)).toEqual(['Async', 'handled']);
      expect(quiet).toEqual({ settled: true, value: undefined });
    });
  });

  describe('lanes', () => {
    it('concurrency 1 runs the messages of a handler one at a time, in order', async () => {
      const { dispatcher, add, sendOne } = setup();
      const h = gated();
      add('Ordered', 'q', h.invoke);
      const states = [0, 1, 2, 3, 4].map((i) => watch(sendOne('q', String(i))));
      expect(h.payloads()).toEqual(['0']);
      expect([dispatcher.running, dispatcher.queued]).toEqual([1, 4]);

      for (let i = 0; i < 5; i++) {
        await flush();
        expect(h.payloads()).toEqual(['0', '1', '2', '3', '4'].slice(0, i + 1));
        expect(states.map((s) => s.settled)).toEqual(states.map((_, j) => j < i));
        h.runs[i].gate.resolve(undefined);
      }
      await flush();
      expect(states.every((s) => s.settled && s.value !== 'rejected')).toBe(true);
      expect(h.maxActive).toBe(1);
      expect([dispatcher.running, dispatcher.queued]).toEqual([0, 0]);
    });

    it('concurrency 3 never runs more than 3 messages at once', async () => {
      const { dispatcher, add, sendOne } = setup();
      const h = gated();
      add('Parallel', 'p', h.invoke, { concurrency: 3 });
      for (let i = 0; i < 10; i++) void sendOne('p', String(i));
      expect(h.active).toBe(3);
      expect([dispatcher.running, dispatcher.queued]).toEqual([3, 7]);

      // Finish the runs in a scrambled order, one at a time.
      for (const i of [2, 0, 1, 5, 3, 4, 8, 6, 7, 9]) {
        await flush();
        expect(h.active).toBeLessThanOrEqual(3);
        h.runs[i].gate.resolve(undefined);
      }
      await flush();
      expect(h.maxActive).toBe(3);
      expect(h.payloads().sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect([dispatcher.running, dispatcher.queued]).toEqual([0, 0]);
    });

    it('gives each handler its own queue: a slow handler does not hold up another', () => {
      const { dispatcher, add, send } = setup();
      const slow = gated();
      const fast = recorder();
      add('Slow', 'x', slow.invoke);
      add('Fast', 'x', fast.invoke);
      for (let i = 0; i < 3; i++) {
        const results = send('x', String(i));
        expect(results.Slow).toBeInstanceOf(Promise);
        expect(results.Fast).toBeUndefined(); // ran and finished at once
      }
      expect(slow.runs).toHaveLength(1);
      expect(fast.seen).toEqual(['0', '1', '2']);
      expect([dispatcher.running, dispatcher.queued]).toEqual([1, 2]);
    });

    it("settles a fast handler's result while a slow handler of the same message still runs", async () => {
      const { add, send } = setup();
      const slow = gated();
      add('Fast', 'req', () => Promise.resolve('fast answer'));
      add('Slow', '#', slow.invoke);
      const results = send('req');
      const fast = watch(results.Fast);
      const slowState = watch(results.Slow);
      await flush();
      expect(outcome(fast.value)).toMatchObject({ kind: 'handled', result: 'fast answer' });
      expect(slowState.settled).toBe(false);
      slow.runs[0].gate.resolve(undefined);
      await flush();
      expect(slowState).toEqual({ settled: true, value: undefined });
    });

    it('running and queued count the calls of every handler', async () => {
      const { dispatcher, add, send } = setup();
      const h = gated();
      const other = gated();
      add('Two', 'i', h.invoke, { concurrency: 2 });
      add('Other', 'i', other.invoke);
      expect([dispatcher.running, dispatcher.queued]).toEqual([0, 0]);
      for (let i = 0; i < 5; i++) void send('i');
      expect([dispatcher.running, dispatcher.queued]).toEqual([3, 7]);
      h.runs[0].gate.resolve(undefined);
      other.runs[0].gate.resolve(undefined);
      await flush();
      expect([dispatcher.running, dispatcher.queued]).toEqual([3, 5]);
      for (let round = 0; round < 5; round++) {
        for (const run of [...h.runs, ...other.runs]) run.gate.resolve(undefined);
        await flush();
      }
      expect([dispatcher.running, dispatcher.queued]).toEqual([0, 0]);
    });

    it('runs a long queue of calls that settle synchronously without deep recursion', async () => {
      const { dispatcher, add, sendOne } = setup();
      let calls = 0;
      const gate = deferred();
      // The first call is asynchronous, every later one synchronous.
      add('Mostly sync', 'l', () => (calls++ === 0 ? gate.promise : undefined));
      const first = watch(sendOne('l', 'first'));
      const N = 10_000;
      const results = Array.from({ length: N }, () => sendOne('l'));
      const last = watch(results[N - 1]);
      expect(dispatcher.queued).toBe(N);
      gate.resolve();
      await flush();
      expect(first).toEqual({ settled: true, value: undefined });
      expect(last).toEqual({ settled: true, value: undefined });
      expect(calls).toBe(N + 1);
      expect([dispatcher.running, dispatcher.queued]).toEqual([0, 0]);
      await expect(dispatcher.idle(5)).resolves.toBe(true);
    });
  });

  describe('QoS 0 queue limit', () => {
    it('drops a QoS 0 message past the limit for a busy handler; the others keep running', () => {
      const { dispatcher, add, send } = setup({ qos0QueueLimit: 1 });
      const slow = gated();
      const fast = recorder();
      add('Slow', 'x', slow.invoke);
      add('Fast', 'x', fast.invoke);
      expect(send('x', 'runs', 0).Slow).toBeInstanceOf(Promise);
      expect(send('x', 'queued', 0).Slow).toBeInstanceOf(Promise);
      const results = send('x', 'dropped', 0);
      expect(kind(results.Slow)).toEqual(['Slow', 'dropped']);
      expect(results.Fast).toBeUndefined();
      expect(outcome(results.Slow).route.message.payload.toString()).toBe('dropped');
      expect(fast.seen).toEqual(['runs', 'queued', 'dropped']);
      expect(slow.payloads()).toEqual(['runs']);
      expect(dispatcher.stats().find((s) => s.name === 'Slow')).toMatchObject({
        dropped: 1,
        queued: 1,
      });
    });

    it('reports a drop at once, while the other handlers of the message still run', async () => {
      const { add, send } = setup({ qos0QueueLimit: 0 });
      const busy = gated();
      const free = gated();
      add('Busy', 'x', busy.invoke);
      add('Free', 'x', free.invoke, { concurrency: 2 });
      void send('x', '1', 0); // both run
      const results = send('x', '2', 0); // Busy drops it, Free runs it
      expect(busy.payloads()).toEqual(['1']);
      expect(free.payloads()).toEqual(['1', '2']);
      expect(kind(results.Busy)).toEqual(['Busy', 'dropped']);
      const state = watch(results.Free);
      await flush();
      expect(state.settled).toBe(false);
      free.runs[1].gate.resolve('reply');
      await flush();
      expect(kind(state.value)).toEqual(['Free', 'handled']);
    });

    it('never drops QoS 1 or QoS 2 messages', () => {
      const { dispatcher, add, sendOne } = setup({ qos0QueueLimit: 0 });
      const slow = gated();
      add('Slow', 'x', slow.invoke);
      for (let i = 0; i < 20; i++) {
        expect(sendOne('x', String(i), i % 2 ? 1 : 2)).toBeInstanceOf(Promise);
      }
      expect(dispatcher.stats()[0]).toMatchObject({ dropped: 0, running: 1, queued: 19 });
    });

    it('counts only waiting QoS 0 messages against the limit, not waiting QoS 1 ones', async () => {
      const { dispatcher, add, sendOne } = setup({ qos0QueueLimit: 2 });
      const slow = gated();
      add('Slow', 'x', slow.invoke);
      void sendOne('x', 'running', 1);
      for (let i = 0; i < 5; i++) expect(sendOne('x', `q1-${i}`, 1)).toBeInstanceOf(Promise);
      expect(sendOne('x', 'q0-a', 0)).toBeInstanceOf(Promise);
      expect(sendOne('x', 'q0-b', 0)).toBeInstanceOf(Promise);
      expect(kind(sendOne('x', 'q0-c', 0))).toEqual(['Slow', 'dropped']);
      expect(dispatcher.stats()[0]).toMatchObject({ dropped: 1, running: 1, queued: 7 });

      // Once a waiting QoS 0 message started, another one finds room again.
      for (let i = 0; i < 7; i++) {
        slow.runs[i].gate.resolve(undefined);
        await flush();
      }
      expect(slow.payloads().slice(-2)).toEqual(['q0-a', 'q0-b']);
      expect(sendOne('x', 'q0-d', 0)).toBeInstanceOf(Promise);
      expect(sendOne('x', 'q0-e', 0)).toBeInstanceOf(Promise);
      expect(kind(sendOne('x', 'q0-f', 0))).toEqual(['Slow', 'dropped']);
      expect(dispatcher.stats()[0]).toMatchObject({ dropped: 2, running: 1, queued: 2 });
    });
  });

  describe('timeouts', () => {
    afterEach(() => jest.useRealTimers());

    it('times out a call after handlerTimeout, and the next queued message runs', async () => {
      jest.useFakeTimers();
      const { dispatcher, add, sendOne } = setup({ handlerTimeout: 50 });
      const stuck = gated();
      add('Stuck', 's', stuck.invoke);
      const first = watch(sendOne('s', '1'));
      const second = watch(sendOne('s', '2'));
      await jest.advanceTimersByTimeAsync(49);
      expect(first.settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(kind(first.value)).toEqual(['Stuck', 'timeout']);
      expect(stuck.payloads()).toEqual(['1', '2']);
      stuck.runs[0].gate.resolve('late'); // ignored
      await jest.advanceTimersByTimeAsync(50);
      expect(kind(second.value)).toEqual(['Stuck', 'timeout']);
      expect(kind(first.value)).toEqual(['Stuck', 'timeout']);
      expect(dispatcher.stats()[0]).toMatchObject({ handled: 0, failed: 2, timedOut: 2 });
    });

    it("a handler's own timeout overrides handlerTimeout; 0 means no limit", async () => {
      jest.useFakeTimers();
      const { add, sendOne } = setup({ handlerTimeout: 1000 });
      add('Quick', 'q', gated().invoke, { timeout: 10 });
      add('Patient', 'p', gated().invoke, { timeout: 0 });
      add('Default', 'd', gated().invoke);
      const quick = watch(sendOne('q'));
      const patient = watch(sendOne('p'));
      const byDefault = watch(sendOne('d'));
      await jest.advanceTimersByTimeAsync(10);
      expect(kind(quick.value)).toEqual(['Quick', 'timeout']);
      expect(byDefault.settled).toBe(false);
      await jest.advanceTimersByTimeAsync(990);
      expect(kind(byDefault.value)).toEqual(['Default', 'timeout']);
      await jest.advanceTimersByTimeAsync(3_600_000);
      expect(patient.settled).toBe(false);
    });
  });

  describe('stop()', () => {
    it('abandons queued and later messages; running ones finish', async () => {
      const { dispatcher, add, sendOne } = setup();
      const h = gated();
      const sync = recorder();
      add('H', 'a', h.invoke);
      add('Sync', 'b', sync.invoke);
      const running = watch(sendOne('a', 'running'));
      const queued = watch(sendOne('a', 'queued'));

      dispatcher.stop();
      await flush();
      expect(queued.value).toBe(ABANDONED);
      expect(dispatcher.queued).toBe(0);
      const after = sendOne('a', 'after');
      expect(after).toBeInstanceOf(Promise);
      await expect(after).resolves.toBe(ABANDONED);
      // Even a handler that would finish at once is not started any more.
      await expect(sendOne('b', 'after')).resolves.toBe(ABANDONED);
      expect(sync.seen).toEqual([]);

      // What was running still finishes, and nothing starts after it.
      expect(running.settled).toBe(false);
      h.runs[0].gate.resolve('done');
      await flush();
      expect(outcome(running.value)).toMatchObject({ kind: 'handled', result: 'done' });
      expect(h.payloads()).toEqual(['running']);
      expect(dispatcher.running).toBe(0);
    });

    it('abandons the route a handler had queued, and still reports the others of the message', async () => {
      const { dispatcher, add, send } = setup();
      const slow = gated();
      const other = gated();
      add('Slow', 'x', slow.invoke);
      add('Other', 'x', other.invoke, { concurrency: 2 });
      void send('x', '1');
      const results = send('x', '2'); // Slow queues it, Other runs it
      const queued = watch(results.Slow);
      const ran = watch(results.Other);
      dispatcher.stop();
      other.runs[1].gate.reject(new Error('other failed'));
      await flush();
      expect(queued.value).toBe(ABANDONED);
      expect(outcome(ran.value)).toMatchObject({
        kind: 'failed',
        error: new Error('other failed'),
      });
    });

    it('also abandons the queue of a handler forgotten before', async () => {
      const { dispatcher, add, sendOne } = setup();
      const h = gated();
      const handler = add('H', 'a', h.invoke);
      const running = watch(sendOne('a', 'running'));
      const queued = watch(sendOne('a', 'queued'));
      dispatcher.forget(handler); // unsubscribed while busy
      expect([dispatcher.running, dispatcher.queued]).toEqual([1, 1]);
      dispatcher.stop(); // then the app shuts down
      await flush();
      expect(queued.value).toBe(ABANDONED);
      expect(dispatcher.queued).toBe(0);
      h.runs[0].gate.resolve(undefined);
      await flush();
      expect(h.payloads()).toEqual(['running']);
      expect(running).toEqual({ settled: true, value: undefined });
      expect(dispatcher.running).toBe(0);
    });
  });

  describe('idle()', () => {
    it('is true at once when nothing runs', async () => {
      const { dispatcher } = setup();
      await expect(dispatcher.idle(1)).resolves.toBe(true);
    });

    it('is true once every handler finished and every queue drained', async () => {
      const { dispatcher, add, send } = setup();
      const a = gated();
      const b = gated();
      add('A', 'x', a.invoke);
      add('B', 'x', b.invoke);
      void send('x');
      void send('x');
      let idle: boolean | undefined;
      void dispatcher.idle(60_000).then((value) => (idle = value));
      a.runs[0].gate.resolve(undefined);
      await flush();
      a.runs[1].gate.resolve(undefined);
      b.runs[0].gate.resolve(undefined);
      await flush();
      expect(idle).toBeUndefined();
      b.runs[1].gate.resolve(undefined);
      await flush();
      expect(idle).toBe(true);
    });

    it('after stop(), waits only for the running calls', async () => {
      const { dispatcher, add, sendOne } = setup();
      const h = gated();
      add('H', 'x', h.invoke);
      void sendOne('x');
      void sendOne('x');
      dispatcher.stop();
      const idle = dispatcher.idle(60_000);
      h.runs[0].gate.resolve(undefined);
      await expect(idle).resolves.toBe(true);
      expect(h.runs).toHaveLength(1);
    });

    it('is false when the timeout comes first', async () => {
      const { dispatcher, add, sendOne } = setup();
      const h = gated();
      add('Stuck', 'x', h.invoke);
      void sendOne('x');
      await expect(dispatcher.idle(5)).resolves.toBe(false);
      h.runs[0].gate.resolve(undefined);
      await flush();
      await expect(dispatcher.idle(5)).resolves.toBe(true);
    });

    it('counts and waits for the running and queued calls of a forgotten handler', async () => {
      const { dispatcher, add, sendOne } = setup();
      const h = gated();
      const handler = add('H', 'a', h.invoke);
      void sendOne('a', '1');
      void sendOne('a', '2');
      dispatcher.forget(handler);
      expect([dispatcher.running, dispatcher.queued]).toEqual([1, 1]);
      await expect(dispatcher.idle(5)).resolves.toBe(false);

      let idle: boolean | undefined;
      void dispatcher.idle(60_000).then((value) => (idle = value));
      h.runs[0].gate.resolve(undefined);
      await flush();
      expect(h.payloads()).toEqual(['1', '2']); // the queued one still ran
      expect(dispatcher.running).toBe(1);
      expect(idle).toBeUndefined();
      h.runs[1].gate.resolve(undefined);
      await flush();
      expect(idle).toBe(true);
      expect([dispatcher.running, dispatcher.queued]).toEqual([0, 0]);
    });
  });

  describe('forget()', () => {
    it('drops the counters of a handler; its running call still finishes', async () => {
      const { dispatcher, add, sendOne } = setup();
      const h = gated();
      const handler = add('H', 'a', h.invoke);
      add('Other', 'b', () => undefined);
      void sendOne('b');
      const running = watch(sendOne('a', '1'));
      dispatcher.forget(handler);
      expect(dispatcher.stats().map((s) => s.name)).toEqual(['Other']);
      h.runs[0].gate.resolve('done');
      await flush();
      expect(kind(running.value)).toEqual(['H', 'handled']);

      // Run again (still routed): it starts from fresh counters.
      void sendOne('a', '2');
      expect(h.payloads()).toEqual(['1', '2']);
      expect(dispatcher.stats().find((s) => s.name === 'H')).toMatchObject({
        handled: 0,
        running: 1,
      });
    });

    it('is a no-op for a handler that never ran', () => {
      const { dispatcher, add } = setup();
      const handler = add('Never', 'n', () => undefined);
      dispatcher.forget(handler);
      expect(dispatcher.stats()).toEqual([]);
      expect(dispatcher.totals()).toEqual({ received: 0, dropped: 0 });
    });
  });

  describe('totals()', () => {
    it('counts received (handled + failed) and dropped messages of every handler', async () => {
      const { dispatcher, add, send } = setup({ qos0QueueLimit: 0 });
      const slow = gated();
      add('Ok', 'x', () => undefined);
      add('Bad', 'x', () => Promise.reject(new Error('bad')), { concurrency: 5 });
      add('Slow', 'x', slow.invoke);
      expect(dispatcher.totals()).toEqual({ received: 0, dropped: 0 });
      void send('x', '', 0);
      void send('x', '', 0); // Slow drops it
      await flush();
      // Slow's call still runs: not received (counted) until it settled.
      expect(dispatcher.totals()).toEqual({ received: 4, dropped: 1 });
      slow.runs[0].gate.resolve(undefined);
      await flush();
      expect(dispatcher.totals()).toEqual({ received: 5, dropped: 1 });
    });

    it('never goes down after forget(): idle, busy, and once a busy forgotten lane finished', async () => {
      const { dispatcher, add, sendOne } = setup({ qos0QueueLimit: 0 });
      const slow = gated();
      const idleHandler = add('Idle', 'i', () => undefined);
      const busyHandler = add('Busy', 'b', slow.invoke);
      const other = add('Other', 'o', () => undefined);
      void sendOne('i');
      void sendOne('i');
      void sendOne('b', '1', 1); // runs and finishes
      await flush();
      slow.runs[0].gate.resolve(undefined);
      await flush();
      void sendOne('b', '2', 1); // runs
      void sendOne('b', '3', 0); // dropped
      void sendOne('b', '4', 1); // queued
      const before = dispatcher.totals();
      expect(before).toEqual({ received: 3, dropped: 1 });

      const seen: Array<{ received: number; dropped: number }> = [before];
      const check = () => {
        const now = dispatcher.totals();
        const last = seen[seen.length - 1];
        expect(now.received).toBeGreaterThanOrEqual(last.received);
        expect(now.dropped).toBeGreaterThanOrEqual(last.dropped);
        seen.push(now);
      };
      dispatcher.forget(idleHandler); // idle: retired at once
      check();
      dispatcher.forget(busyHandler); // busy: kept until idle
      check();
      expect(dispatcher.stats()).toEqual([]);
      slow.runs[1].gate.resolve(undefined);
      await flush();
      check();
      slow.runs[2].gate.resolve(undefined);
      await flush();
      check();
      void sendOne('o'); // a new lane: sweeps the retired lane that became idle
      check();
      dispatcher.forget(other);
      check();
      expect(dispatcher.totals()).toEqual({ received: 6, dropped: 1 });
    });
  });

  it('stats() has the counters of every handler that has run', async () => {
    const { dispatcher, add, send } = setup({ qos0QueueLimit: 0 });
    const slow = gated();
    add('Ok', 'x', () => 'reply');
    add('Bad', 'x', () => Promise.reject(new Error('bad')), { concurrency: 5 });
    add('Slow', 'x', slow.invoke);
    add('Never', 'never', () => undefined);
    expect(dispatcher.stats()).toEqual([]);
    void send('x', '', 1);
    void send('x', '', 0);
    void send('x', '', 1);
    await flush();
    expect(dispatcher.stats()).toEqual([
      {
        name: 'Ok',
        filters: ['x'],
        handled: 3,
        failed: 0,
        timedOut: 0,
        dropped: 0,
        running: 0,
        queued: 0,
      },
      {
        name: 'Bad',
        filters: ['x'],
        handled: 0,
        failed: 3,
        timedOut: 0,
        dropped: 0,
        running: 0,
        queued: 0,
      },
      {
        name: 'Slow',
        filters: ['x'],
        handled: 0,
        failed: 0,
        timedOut: 0,
        dropped: 1,
        running: 1,
        queued: 1,
      },
    ]);
  });
});

import type { IPublishPacket } from 'mqtt';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import type { MqttQos, MqttSubscribeOptions } from '../interfaces/subscribe-options.interface';
import { MqttRouter, type MqttRoute } from '../routing/mqtt.router';
import { ABANDONED, HandlerLane } from './handler-lane';
import type { MqttOutcome } from './mqtt.dispatcher';
import { deferred, flush, type Deferred } from './dispatch.spec-helpers';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Taken = ReturnType<HandlerLane['take']>;

/** The value a `take()` settled with, observed without awaiting it. */
function watch(taken: Taken) {
  const state: { settled: boolean; value?: MqttOutcome | typeof ABANDONED } = { settled: false };
  if (taken instanceof Promise) {
    void taken.then((value) => Object.assign(state, { settled: true, value }));
  } else {
    Object.assign(state, { settled: true, value: taken });
  }
  return state;
}

/**
 * A lane for one handler on topic `t`. `invoke` decides what each call does; by default each
 * call waits for its own gate (`runs[i].gate`).
 */
function setup(
  options: MqttSubscribeOptions = {},
  limits: { timeout?: number; qos0QueueLimit?: number } = {},
  invoke?: (message: MqttMessage) => unknown,
) {
  const router = new MqttRouter();
  const runs: Array<{ payload: string; gate: Deferred<unknown> }> = [];
  const { handler } = router.register({
    name: 'Lane.handle',
    subscriptions: [{ filters: ['t'], options }],
    invoke: (message) => {
      if (invoke) return invoke(message);
      const gate = deferred<unknown>();
      runs.push({ payload: message.payload.toString(), gate });
      return gate.promise;
    },
  });
  const lane = new HandlerLane(handler, {
    timeout: limits.timeout ?? handler.timeout ?? 0,
    qos0QueueLimit: limits.qos0QueueLimit ?? 1000,
  });
  const route = (payload = '', qos: MqttQos = 1): MqttRoute => {
    const p: IPublishPacket = {
      cmd: 'publish',
      topic: 't',
      payload: Buffer.from(payload),
      qos,
      retain: false,
      dup: false,
    };
    return router.route(p)[0];
  };
  const take = (payload = '', qos: MqttQos = 1, reportAll = false) =>
    lane.take(route(payload, qos), reportAll);
  return { lane, runs, route, take, payloads: () => runs.map((r) => r.payload) };
}

describe('HandlerLane', () => {
  describe('take()', () => {
    it('runs a synchronous handler at once: undefined unless there is something to report', () => {
      const values: unknown[] = [undefined, 42, null];
      const { take } = setup({}, {}, () => values.shift());
      expect(take('a')).toBeUndefined();
      const reply = take('b') as MqttOutcome;
      expect(reply).toMatchObject({ kind: 'handled', result: 42 });
      expect(reply.route.message.payload.toString()).toBe('b');
      expect(reply.durationMs).toBeGreaterThanOrEqual(0);
      expect(take('c')).toMatchObject({ kind: 'handled', result: null });
    });

    it('reports every call, results or not, when asked to report all', () => {
      const { take } = setup({}, {}, () => undefined);
      expect(take('a', 1, true)).toMatchObject({ kind: 'handled', result: undefined });
    });

    it('reports a synchronous throw as failed, with the error', () => {
      const boom = new Error('boom');
      const { take, lane } = setup({}, {}, () => {
        throw boom;
      });
      expect(take('a')).toMatchObject({ kind: 'failed', error: boom });
      expect(lane.active).toBe(0);
    });

    it('returns a promise for an asynchronous handler; it resolves with the outcome', async () => {
      const { take, runs } = setup();
      const plain = watch(take('plain'));
      const reply = watch(take('reply'));
      const fails = watch(take('fails'));
      expect(runs).toHaveLength(1); // concurrency 1: the others wait
      runs[0].gate.resolve(undefined);
      await flush();
      expect(plain).toEqual({ settled: true, value: undefined });
      runs[1].gate.resolve('answer');
      await flush();
      expect(reply.value).toMatchObject({ kind: 'handled', result: 'answer' });
      const nope = new Error('nope');
      runs[2].gate.reject(nope);
      await flush();
      expect(fails.value).toMatchObject({ kind: 'failed', error: nope });
    });

    it('accepts any thenable as an asynchronous result', async () => {
      const { take } = setup({}, {}, () => ({
        then: (ok: (v: unknown) => void) => setImmediate(() => ok('from a thenable')),
      }));
      await expect(take()).resolves.toMatchObject({ kind: 'handled', result: 'from a thenable' });
    });
  });

  describe('queue', () => {
    it('runs queued messages in order, one at a time with concurrency 1', async () => {
      const { take, runs, lane, payloads } = setup();
      const states = ['0', '1', '2', '3'].map((p) => watch(take(p)));
      expect(payloads()).toEqual(['0']);
      expect(lane.active).toBe(1);
      expect(lane.queued).toBe(3);
      for (let i = 0; i < 4; i++) {
        expect(payloads()).toEqual(['0', '1', '2', '3'].slice(0, i + 1));
        expect(states.map((s) => s.settled)).toEqual(states.map((_, j) => j < i));
        runs[i].gate.resolve(undefined);
        await flush();
      }
      expect(states.every((s) => s.settled)).toBe(true);
      expect([lane.active, lane.queued]).toEqual([0, 0]);
    });

    it('starts the next queued message as soon as a call fails', async () => {
      const { take, runs, payloads } = setup();
      const first = watch(take('1'));
      void take('2');
      runs[0].gate.reject(new Error('fail'));
      await flush();
      expect(first.value).toMatchObject({ kind: 'failed' });
      expect(payloads()).toEqual(['1', '2']);
    });

    it('runs a long queue of calls that settle synchronously without deep recursion', async () => {
      let calls = 0;
      const gate = deferred();
      // The first call is asynchronous, every later one synchronous.
      const { take, lane } = setup({}, {}, () => (calls++ === 0 ? gate.promise : undefined));
      const first = watch(take('first'));
      const N = 10_000;
      const last = watch(Array.from({ length: N }, () => take()).pop());
      expect(lane.queued).toBe(N);
      gate.resolve();
      await flush();
      expect(first.settled).toBe(true);
      expect(last.settled).toBe(true);
      expect(calls).toBe(N + 1);
      expect([lane.active, lane.queued]).toEqual([0, 0]);
    });
  });

  describe('QoS 0 queue limit', () => {
    it('drops a QoS 0 message when the queue is full, reporting it as dropped', async () => {
      const { take, runs, lane, payloads } = setup({}, { qos0QueueLimit: 2 });
      void take('run', 0);
      void take('q1', 0);
      void take('q2', 0);
      const dropped = take('over', 0) as MqttOutcome;
      expect(dropped).toMatchObject({ kind: 'dropped', durationMs: 0 });
      expect(dropped.route.message.payload.toString()).toBe('over');
      expect(lane.queued).toBe(2);
      expect(lane.stats()).toMatchObject({ dropped: 1, running: 1, queued: 2 });

      for (const run of runs) run.gate.resolve(undefined);
      await flush();
      for (const run of runs) run.gate.resolve(undefined);
      await flush();
      expect(payloads()).toEqual(['run', 'q1', 'q2']);
    });

    it('never drops QoS 1 or QoS 2 messages', () => {
      const { take, lane } = setup({}, { qos0QueueLimit: 1 });
      void take('run', 1);
      const taken = [take('a', 1), take('b', 2), take('c', 1), take('d', 2)];
      expect(taken.every((t) => t instanceof Promise)).toBe(true);
      expect(lane.stats()).toMatchObject({ dropped: 0, queued: 4 });
    });

    it('with a limit of 0 drops every QoS 0 message that finds the handler busy', async () => {
      const { take, runs, lane } = setup({ concurrency: 2 }, { qos0QueueLimit: 0 });
      expect(take('1', 0)).toBeInstanceOf(Promise);
      expect(take('2', 0)).toBeInstanceOf(Promise);
      expect(take('3', 0)).toMatchObject({ kind: 'dropped' });
      runs[0].gate.resolve(undefined);
      await flush();
      expect(take('4', 0)).toBeInstanceOf(Promise); // a slot is free again
      expect(lane.stats().dropped).toBe(1);
    });
    it('counts only waiting QoS 0 messages against the limit: waiting QoS 1 ones do not', () => {
      const { take, lane } = setup({}, { qos0QueueLimit: 2 });
      void take('run', 1);
      for (let i = 0; i < 5; i++) void take(`q1-${i}`, 1);
      expect(take('a', 0)).toBeInstanceOf(Promise);
      expect(take('b', 0)).toBeInstanceOf(Promise);
      expect(take('c', 0)).toMatchObject({ kind: 'dropped' });
      expect(lane.stats()).toMatchObject({ dropped: 1, queued: 7 });
    });

    it('frees room for QoS 0 as waiting QoS 0 messages start, and after abandonQueued()', async () => {
      const { take, runs, lane, payloads } = setup({}, { qos0QueueLimit: 1 });
      void take('run', 0);
      void take('q0', 0);
      void take('q1', 1);
      expect(take('over', 0)).toMatchObject({ kind: 'dropped' });
      runs[0].gate.resolve(undefined);
      await flush();
      expect(payloads()).toEqual(['run', 'q0']); // q0 started: room for one QoS 0 again
      expect(take('next', 0)).toBeInstanceOf(Promise);
      expect(take('over2', 0)).toMatchObject({ kind: 'dropped' });
      lane.abandonQueued();
      expect(take('after', 0)).toBeInstanceOf(Promise);
      expect(take('over3', 0)).toMatchObject({ kind: 'dropped' });
      expect(lane.stats()).toMatchObject({ dropped: 3, running: 1, queued: 1 });
    });
  });

  describe('timeout', () => {
    afterEach(() => jest.useRealTimers());

    it('fails a call that does not settle in time, frees its slot and ignores a late settle', async () => {
      jest.useFakeTimers();
      const { take, runs, lane, payloads } = setup({}, { timeout: 100 });
      const stuck = watch(take('stuck'));
      const next = watch(take('next'));
      await jest.advanceTimersByTimeAsync(99);
      expect(stuck.settled).toBe(false);
      expect(payloads()).toEqual(['stuck']);

      await jest.advanceTimersByTimeAsync(1);
      expect(stuck.value).toMatchObject({ kind: 'timeout' });
      expect((stuck.value as MqttOutcome).durationMs).toBeGreaterThanOrEqual(0);
      expect(payloads()).toEqual(['stuck', 'next']);
      expect(lane.stats()).toMatchObject({ failed: 1, timedOut: 1, handled: 0, running: 1 });

      runs[0].gate.resolve('too late');
      runs[1].gate.resolve(undefined);
      await jest.advanceTimersByTimeAsync(0);
      expect(stuck.value).toMatchObject({ kind: 'timeout' });
      expect(next).toEqual({ settled: true, value: undefined });
      expect(lane.stats()).toMatchObject({ failed: 1, timedOut: 1, handled: 1, running: 0 });
      expect(jest.getTimerCount()).toBe(0);
    });

    it('ignores a late rejection too', async () => {
      jest.useFakeTimers();
      const { take, runs, lane } = setup({}, { timeout: 10 });
      const stuck = watch(take());
      await jest.advanceTimersByTimeAsync(10);
      runs[0].gate.reject(new Error('late'));
      await jest.advanceTimersByTimeAsync(0);
      expect(stuck.value).toMatchObject({ kind: 'timeout' });
      expect(lane.stats()).toMatchObject({ failed: 1, timedOut: 1 });
    });

    it('clears the timer of a call that settles in time', async () => {
      jest.useFakeTimers();
      const { take, runs, lane } = setup({}, { timeout: 100 });
      const call = watch(take());
      expect(jest.getTimerCount()).toBe(1);
      runs[0].gate.resolve(undefined);
      await jest.advanceTimersByTimeAsync(0);
      expect(jest.getTimerCount()).toBe(0);
      await jest.advanceTimersByTimeAsync(1000);
      expect(call).toEqual({ settled: true, value: undefined });
      expect(lane.stats()).toMatchObject({ handled: 1, failed: 0, timedOut: 0 });
    });

    it('sets no timer with a timeout of 0 (no limit)', async () => {
      jest.useFakeTimers();
      const { take } = setup({}, { timeout: 0 });
      const call = watch(take());
      expect(jest.getTimerCount()).toBe(0);
      await jest.advanceTimersByTimeAsync(3_600_000);
      expect(call.settled).toBe(false);
    });
  });

  describe('abandonQueued() / whenIdle()', () => {
    it('settles queued messages as ABANDONED and lets the running call finish', async () => {
      const { take, runs, lane, payloads } = setup();
      const running = watch(take('running'));
      const queued = [watch(take('q1')), watch(take('q2'))];
      lane.abandonQueued();
      await flush();
      expect(queued.map((q) => q.value)).toEqual([ABANDONED, ABANDONED]);
      expect(running.settled).toBe(false);
      expect(lane.queued).toBe(0);

      runs[0].gate.resolve('done');
      await flush();
      expect(running.value).toMatchObject({ kind: 'handled', result: 'done' });
      expect(payloads()).toEqual(['running']);
    });

    it('whenIdle() resolves at once when idle, else once running and queued calls finished', async () => {
      const { take, runs, lane } = setup();
      await expect(lane.whenIdle()).resolves.toBeUndefined();
      void take('1');
      void take('2');
      let idle = false;
      void lane.whenIdle().then(() => (idle = true));
      runs[0].gate.resolve(undefined);
      await flush();
      expect(idle).toBe(false);
      runs[1].gate.resolve(undefined);
      await flush();
      expect(idle).toBe(true);
    });
  });

  it('idle is true only when nothing runs and nothing waits', async () => {
    const { take, runs, lane } = setup();
    expect(lane.idle).toBe(true);
    void take('1');
    void take('2');
    expect(lane.idle).toBe(false);
    runs[0].gate.resolve(undefined);
    await flush();
    expect([lane.active, lane.queued, lane.idle]).toEqual([1, 0, false]);
    runs[1].gate.resolve(undefined);
    await flush();
    expect(lane.idle).toBe(true);
    void take('3');
    void take('4');
    lane.abandonQueued();
    expect(lane.idle).toBe(false); // '3' still runs
    runs[2].gate.resolve(undefined);
    await flush();
    expect(lane.idle).toBe(true);
  });

  it('stats() counts handled, failed, timed out, dropped, running and queued calls', async () => {
    const outcomes: Array<() => unknown> = [
      () => undefined,
      () => 'reply',
      () => {
        throw new Error('x');
      },
      () => Promise.reject(new Error('y')),
    ];
    const { take, lane } = setup({ concurrency: 2 }, {}, () => outcomes.shift()!());
    expect(lane.stats()).toEqual({
      name: 'Lane.handle',
      filters: ['t'],
      handled: 0,
      failed: 0,
      timedOut: 0,
      dropped: 0,
      running: 0,
      queued: 0,
    });
    for (let i = 0; i < 4; i++) void take();
    await flush();
    expect(lane.stats()).toMatchObject({ handled: 2, failed: 2, timedOut: 0, running: 0 });
  });
});

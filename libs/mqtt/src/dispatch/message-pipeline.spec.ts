import type { IPublishPacket } from 'mqtt';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import type { MqttQos, MqttSubscribeOptions } from '../interfaces/subscribe-options.interface';
import type { MqttEventBus } from '../mqtt-event-bus';
import * as messages from '../mqtt.messages';
import { MqttRouter } from '../routing/mqtt.router';
import type { DeadLetters } from './dead-letters';
import { MessagePipeline } from './message-pipeline';
import { MqttDispatcher, type MqttDispatcherOptions } from './mqtt.dispatcher';
import { deferred, flush } from './dispatch.spec-helpers';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function packet(
  topic: string,
  payload = 'payload',
  qos: MqttQos = 1,
  properties?: IPublishPacket['properties'],
): IPublishPacket {
  return {
    cmd: 'publish',
    topic,
    payload: Buffer.from(payload),
    qos,
    retain: false,
    dup: false,
    messageId: 7,
    ...(properties ? { properties } : {}),
  };
}

/** Whether a verdict promise settled (and with what), observed without awaiting it. */
function watch(verdict: Promise<boolean> | undefined) {
  expect(verdict).toBeInstanceOf(Promise);
  const state: { settled: boolean; value?: boolean } = { settled: false };
  void verdict!.then((value) => Object.assign(state, { settled: true, value }));
  return state;
}

/** A pipeline over a real router and dispatcher, with fake bus, dead letters and publish. */
function setup(options: Partial<MqttDispatcherOptions> = {}) {
  const router = new MqttRouter();
  const dispatcher = new MqttDispatcher({ handlerTimeout: 0, qos0QueueLimit: 1000, ...options });
  /** What happened, in order: log lines, dead letters, publishes. */
  const trail: string[] = [];
  const bus = {
    observed: false,
    log: jest.fn((level: string, message: string) => void trail.push(`${level}: ${message}`)),
    emit: jest.fn(),
  };
  const deadLetter = { result: undefined as Promise<void> | undefined };
  const deadLetters = {
    send: jest.fn((handler: string, message: MqttMessage, reason: string) => {
      trail.push(`dead letter: ${handler} ${message.topic} ${reason}`);
      return deadLetter.result;
    }),
  };
  const publish = jest.fn((topic: string, _payload: unknown, _options: unknown) => {
    trail.push(`publish: ${topic}`);
    return Promise.resolve();
  });
  const pipeline = new MessagePipeline(
    router,
    dispatcher,
    bus as unknown as MqttEventBus,
    deadLetters as unknown as DeadLetters,
    publish,
  );
  const add = (
    name: string,
    filter: string,
    invoke: (message: MqttMessage) => unknown,
    opts: MqttSubscribeOptions = {},
  ) => router.register({ name, subscriptions: [{ filters: [filter], options: opts }], invoke });
  return { router, dispatcher, bus, deadLetters, deadLetter, publish, pipeline, add, trail };
}

const failed = (handler: string, topic: string, reason: string, payload = '"payload"') =>
  `error: ${messages.HANDLER_FAILED(handler, topic, reason, payload)}`;

describe('MessagePipeline', () => {
  describe('verdict', () => {
    it('is undefined (acknowledge at once) when no handler matches', () => {
      const { pipeline, dispatcher, trail } = setup();
      expect(pipeline.handle(packet('nobody'))).toBeUndefined();
      expect(dispatcher.stats()).toEqual([]);
      expect(trail).toEqual([]);
    });

    it('is undefined for QoS 1 when every handler finished synchronously without failing', () => {
      const { pipeline, add } = setup();
      const seen: string[] = [];
      add('Sync', 's', (m) => void seen.push(m.topic));
      expect(pipeline.handle(packet('s'))).toBeUndefined();
      expect(seen).toEqual(['s']);
    });

    it('for QoS 1 and 2, resolves true only once the asynchronous handlers settled', async () => {
      const { pipeline, add } = setup();
      const gates = [deferred(), deferred()];
      add('Async', 'a', () => gates.shift()!.promise);
      for (const qos of [1, 2] as const) {
        const gate = gates[0];
        const state = watch(pipeline.handle(packet('a', '', qos)));
        await flush();
        expect(state.settled).toBe(false);
        gate.resolve();
        await flush();
        expect(state).toEqual({ settled: true, value: true });
      }
    });

    it('for a message with several handlers, resolves only once every one of them settled', async () => {
      const { pipeline, add } = setup();
      const one = deferred();
      const two = deferred();
      add('One', 'a/#', () => one.promise);
      add('Two', 'a/+', () => two.promise);
      add('Sync', 'a/b', () => undefined);
      const state = watch(pipeline.handle(packet('a/b')));
      await flush();
      expect(state.settled).toBe(false);
      one.resolve();
      await flush();
      expect(state.settled).toBe(false);
      two.resolve();
      await flush();
      expect(state).toEqual({ settled: true, value: true });
    });

    it('is always undefined for QoS 0: async, failing, dropped or abandoned', async () => {
      const { pipeline, add, dispatcher, trail } = setup({ qos0QueueLimit: 0 });
      const gate = deferred();
      add('Async', 'a', () => gate.promise);
      add('Thrower', 't', () => {
        throw new Error('boom');
      });
      expect(pipeline.handle(packet('a', '', 0))).toBeUndefined(); // runs
      expect(pipeline.handle(packet('a', '', 0))).toBeUndefined(); // dropped
      expect(pipeline.handle(packet('t', '', 0))).toBeUndefined(); // fails
      dispatcher.stop();
      expect(pipeline.handle(packet('a', '', 0))).toBeUndefined(); // abandoned
      await flush();
      expect(trail).toEqual([
        `warn: ${messages.QOS0_DROPPED('Async', 1)}`,
        failed('Thrower', 't', 'boom', '""'),
        'dead letter: Thrower t boom',
      ]);
    });

    it('is false when shutdown left the message unstarted (queued or arriving after stop())', async () => {
      const { pipeline, add, dispatcher, trail } = setup();
      const gate = deferred();
      const seen: string[] = [];
      add('Slow', 's', (m) => {
        seen.push(m.payload.toString());
        return gate.promise;
      });
      const running = watch(pipeline.handle(packet('s', 'running')));
      const queued = watch(pipeline.handle(packet('s', 'queued')));
      dispatcher.stop();
      const after = watch(pipeline.handle(packet('s', 'after')));
      await flush();
      expect(queued).toEqual({ settled: true, value: false });
      expect(after).toEqual({ settled: true, value: false });
      expect(running.settled).toBe(false);
      gate.resolve();
      await flush();
      expect(running).toEqual({ settled: true, value: true });
      expect(seen).toEqual(['running']);
      expect(trail).toEqual([]);
    });
  });

  describe("ack: 'on-receipt'", () => {
    it('gives an undefined verdict for QoS 1; the handler still runs and failures are reported', async () => {
      const { pipeline, add, trail } = setup();
      const gate = deferred();
      add('Receipt', 'r', () => gate.promise, { ack: 'on-receipt', qos: 1 });
      expect(pipeline.handle(packet('r'))).toBeUndefined();
      gate.reject(new Error('late failure'));
      await flush();
      expect(trail).toEqual([
        failed('Receipt', 'r', 'late failure'),
        'dead letter: Receipt r late failure',
      ]);
    });

    it('still waits for the other, after-handler handlers of the message', async () => {
      const { pipeline, add } = setup();
      const gate = deferred();
      add('Receipt', 'x', () => undefined, { ack: 'on-receipt' });
      add('After', 'x', () => gate.promise);
      const state = watch(pipeline.handle(packet('x')));
      await flush();
      expect(state.settled).toBe(false);
      gate.resolve();
      await flush();
      expect(state).toEqual({ settled: true, value: true });
    });

    it('does not hold up the acknowledgement by an on-receipt handler still running', async () => {
      const { pipeline, add, trail } = setup();
      const slow = deferred();
      const after = deferred();
      add('Receipt', 'x', () => slow.promise, { ack: 'on-receipt' });
      add('After', 'x', () => after.promise);
      const state = watch(pipeline.handle(packet('x')));
      await flush();
      expect(state.settled).toBe(false); // After still runs
      after.resolve();
      await flush();
      expect(state).toEqual({ settled: true, value: true }); // while Receipt still runs
      slow.reject(new Error('receipt failed later'));
      await flush();
      expect(trail).toEqual([
        failed('Receipt', 'x', 'receipt failed later'),
        'dead letter: Receipt x receipt failed later',
      ]);
    });

    it('does not hold up the acknowledgement by the dead letter of an on-receipt handler', async () => {
      const { pipeline, add, deadLetter, trail } = setup();
      deadLetter.result = new Promise(() => undefined); // never confirmed
      add(
        'Receipt',
        'x',
        () => {
          throw new Error('boom');
        },
        { ack: 'on-receipt' },
      );
      add('After', 'x', () => Promise.resolve());
      const state = watch(pipeline.handle(packet('x')));
      await flush();
      expect(state).toEqual({ settled: true, value: true });
      expect(trail).toEqual([failed('Receipt', 'x', 'boom'), 'dead letter: Receipt x boom']);
    });
  });

  describe('failures', () => {
    it('logs one error line and sends the dead letter before the verdict resolves', async () => {
      const { pipeline, add, deadLetter, deadLetters, trail } = setup();
      const sent = deferred();
      deadLetter.result = sent.promise;
      add('Thrower', 'f/+', () => {
        throw new Error('boom');
      });
      const state = watch(pipeline.handle(packet('f/1')));
      expect(trail).toEqual([failed('Thrower', 'f/1', 'boom'), 'dead letter: Thrower f/1 boom']);
      const message = deadLetters.send.mock.calls[0][1];
      expect([message.topic, message.filter, message.payload.toString()]).toEqual([
        'f/1',
        'f/+',
        'payload',
      ]);
      await flush();
      expect(state.settled).toBe(false);
      sent.resolve();
      await flush();
      expect(state).toEqual({ settled: true, value: true });
      expect(trail).toHaveLength(2);
    });

    it('reports an asynchronous rejection the same way; no dead-letter topic: no wait', async () => {
      const { pipeline, add, trail } = setup();
      const gate = deferred();
      add('Rejecter', 'r', () => gate.promise);
      const state = watch(pipeline.handle(packet('r', 'data')));
      gate.reject(new Error('nope'));
      await flush();
      expect(trail).toEqual([
        failed('Rejecter', 'r', 'nope', '"data"'),
        'dead letter: Rejecter r nope',
      ]);
      expect(state).toEqual({ settled: true, value: true });
    });

    it('logs a failed dead letter and still acknowledges', async () => {
      const { pipeline, add, deadLetter, trail } = setup();
      deadLetter.result = Promise.reject(new Error('broker said no'));
      add('Thrower', 'd', () => {
        throw new Error('x');
      });
      const state = watch(pipeline.handle(packet('d')));
      await flush();
      expect(trail[2]).toBe(`error: ${messages.DEAD_LETTER_FAILED('d', 'broker said no')}`);
      expect(state).toEqual({ settled: true, value: true });
    });

    it('reports a timeout with its reason, and dead-letters the message', async () => {
      jest.useFakeTimers();
      try {
        const { pipeline, add, trail } = setup({ handlerTimeout: 40 });
        add('Stuck', 's', () => new Promise(() => undefined));
        const state = watch(pipeline.handle(packet('s')));
        await jest.advanceTimersByTimeAsync(40);
        expect(trail).toHaveLength(2);
        expect(trail[0]).toContain('Handler Stuck failed for topic "s": did not settle within');
        expect(trail[1]).toMatch(/^dead letter: Stuck s did not settle within \d+ ms/);
        expect(state).toEqual({ settled: true, value: true });
      } finally {
        jest.useRealTimers();
      }
    });

    it("reports the message of Nest's HttpException, and non-Error values as text", async () => {
      const { pipeline, add, trail } = setup();
      const http = (message: unknown) =>
        Object.assign(new Error('Http Exception'), { getResponse: () => ({ message }) });
      add('Many', 'a', () => Promise.reject(http(['name is empty', 'age is negative'])));
      add('One', 'b', () => Promise.reject(http('Forbidden resource')));
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      add('Text', 'c', () => Promise.reject('plain string'));
      void pipeline.handle(packet('a'));
      void pipeline.handle(packet('b'));
      void pipeline.handle(packet('c'));
      await flush();
      expect(trail.filter((l) => l.startsWith('error'))).toEqual([
        failed('Many', 'a', 'name is empty; age is negative'),
        failed('One', 'b', 'Forbidden resource'),
        failed('Text', 'c', 'plain string'),
      ]);
    });

    it('neither throws nor rejects, and runs the other handlers, when an error cannot be made text', async () => {
      const { pipeline, add, trail } = setup();
      const seen: string[] = [];
      // Values String() cannot convert: a null-prototype object, and a throwing toString.
      const bare: unknown = Object.create(null);
      const hostile = {
        toString: () => {
          throw new Error('no text');
        },
      };
      add('Bare', 'x', () => {
        throw bare;
      });
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      add('Hostile', 'x', () => Promise.reject(hostile));
      add('Next', 'x', (m) => void seen.push(m.topic));
      let verdict: Promise<boolean> | undefined;
      expect(() => (verdict = pipeline.handle(packet('x')))).not.toThrow();
      expect(seen).toEqual(['x']);
      await expect(verdict).resolves.toBe(true);
      expect(trail.filter((l) => l.startsWith('error'))).toHaveLength(2);
    });

    it('still reports the failure of a handler when another one had the message queued at stop()', async () => {
      const { pipeline, add, dispatcher, trail } = setup();
      const gate = deferred();
      add('Busy', 'x', () => gate.promise);
      add('Thrower', 'x', () => {
        throw new Error('boom');
      });
      void pipeline.handle(packet('x', 'first', 0));
      void pipeline.handle(packet('x', 'second', 0)); // Busy queues it; Thrower fails on it
      dispatcher.stop();
      gate.resolve();
      await flush();
      expect(trail.filter((l) => l.startsWith('error'))).toEqual([
        failed('Thrower', 'x', 'boom', '"first"'),
        failed('Thrower', 'x', 'boom', '"second"'),
      ]);
    });

    it('for QoS 1, one abandoned route makes the verdict false; the others are still acted on', async () => {
      const { pipeline, add, dispatcher, publish, trail } = setup();
      const busy = deferred();
      const failing = deferred();
      add('Busy', 'x', () => busy.promise);
      add('Failing', 'x', (m) => (m.payload.toString() === 'second' ? failing.promise : undefined));
      add('Replier', 'x', () => Promise.resolve('answer'), { concurrency: 2 });
      void pipeline.handle(packet('x', 'first'));
      const state = watch(
        pipeline.handle(packet('x', 'second', 1, { responseTopic: 'replies/2' })),
      ); // Busy queues it; Failing and Replier run it
      dispatcher.stop();
      await flush();
      expect(state.settled).toBe(false); // Failing still runs
      failing.reject(new Error('late failure'));
      await flush();
      expect(state).toEqual({ settled: true, value: false });
      expect(trail.filter((l) => !l.startsWith('publish'))).toEqual([
        failed('Failing', 'x', 'late failure', '"second"'),
        'dead letter: Failing x late failure',
      ]);
      expect(publish).toHaveBeenCalledWith('replies/2', 'answer', expect.anything());
      busy.resolve();
    });
  });

  describe('replies (MQTT 5 request/response)', () => {
    const request = (qos: MqttQos = 1) =>
      packet('req', 'q', qos, {
        responseTopic: 'replies/1',
        correlationData: Buffer.from('c-1'),
      });

    it('publishes a return value, sync or async, to the response topic', async () => {
      const { pipeline, add, publish } = setup();
      add('Sync', 'req', () => 'sync answer');
      add('Async', 'req', () => Promise.resolve({ n: 2 }));
      add('Silent', 'req', () => undefined);
      const state = watch(pipeline.handle(request(2)));
      await flush();
      expect(publish.mock.calls).toEqual([
        [
          'replies/1',
          'sync answer',
          { qos: 2, properties: { correlationData: Buffer.from('c-1') } },
        ],
        ['replies/1', { n: 2 }, { qos: 2, properties: { correlationData: Buffer.from('c-1') } }],
      ]);
      expect(state).toEqual({ settled: true, value: true });
    });

    it('publishes the reply of a fast handler without waiting for a slow one', async () => {
      const { pipeline, add, publish } = setup();
      const slow = deferred();
      add('Fast', 'req', () => Promise.resolve('fast answer'));
      add('Audit', '#', () => slow.promise); // say a slow audit log on every topic
      const state = watch(pipeline.handle(request()));
      await flush();
      expect(publish).toHaveBeenCalledWith('replies/1', 'fast answer', expect.anything());
      expect(state.settled).toBe(false); // the acknowledgement still waits for Audit
      slow.resolve();
      await flush();
      expect(state).toEqual({ settled: true, value: true });
    });

    it('publishes nothing without a response topic', async () => {
      const { pipeline, add, publish } = setup();
      add('Value', 'v', () => 'ignored');
      expect(pipeline.handle(packet('v'))).toBeUndefined();
      await flush();
      expect(publish).not.toHaveBeenCalled();
    });

    it('logs a reply that could not be published', async () => {
      const { pipeline, add, publish, trail } = setup();
      publish.mockImplementationOnce(() => Promise.reject(new Error('offline')));
      add('Answer', 'req', () => 'answer');
      void pipeline.handle(request(0));
      await flush();
      expect(trail).toEqual([`error: ${messages.REPLY_FAILED('Answer', 'replies/1', 'offline')}`]);
    });
  });

  describe('QoS 0 drops', () => {
    afterEach(() => jest.useRealTimers());

    it('warns at the first drop, then at most every 10 s with the count since', () => {
      jest.useFakeTimers();
      const { pipeline, add, trail } = setup({ qos0QueueLimit: 0 });
      add('Slow', 's', () => new Promise(() => undefined));
      void pipeline.handle(packet('s', '', 0)); // runs forever
      void pipeline.handle(packet('s', '', 0));
      expect(trail).toEqual([`warn: ${messages.QOS0_DROPPED('Slow', 1)}`]);
      void pipeline.handle(packet('s', '', 0));
      void pipeline.handle(packet('s', '', 0));
      jest.advanceTimersByTime(9_999);
      void pipeline.handle(packet('s', '', 0));
      expect(trail).toHaveLength(1);
      jest.advanceTimersByTime(1); // the quiet period ends: the 3 drops since are summed up
      expect(trail).toEqual([
        `warn: ${messages.QOS0_DROPPED('Slow', 1)}`,
        `warn: ${messages.QOS0_DROPPED('Slow', 3)}`,
      ]);
      void pipeline.handle(packet('s', '', 0)); // within the next quiet period
      expect(trail).toHaveLength(2);
      jest.advanceTimersByTime(10_000);
      expect(trail).toEqual([
        `warn: ${messages.QOS0_DROPPED('Slow', 1)}`,
        `warn: ${messages.QOS0_DROPPED('Slow', 3)}`,
        `warn: ${messages.QOS0_DROPPED('Slow', 1)}`,
      ]);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('logs the drops at the end of the quiet period even when no further drop comes, one line per handler', () => {
      jest.useFakeTimers();
      const { pipeline, add, trail } = setup({ qos0QueueLimit: 0 });
      add('SlowA', 'a', () => new Promise(() => undefined));
      add('SlowB', 'b', () => new Promise(() => undefined));
      void pipeline.handle(packet('a', '', 0)); // runs forever
      void pipeline.handle(packet('b', '', 0)); // runs forever
      void pipeline.handle(packet('a', '', 0)); // dropped: warned at once
      expect(trail).toEqual([`warn: ${messages.QOS0_DROPPED('SlowA', 1)}`]);
      jest.advanceTimersByTime(3_000);
      void pipeline.handle(packet('b', '', 0));
      void pipeline.handle(packet('a', '', 0));
      void pipeline.handle(packet('b', '', 0));
      expect(trail).toHaveLength(1);
      jest.advanceTimersByTime(6_999);
      expect(trail).toHaveLength(1);
      jest.advanceTimersByTime(1); // 10 s after the first warning; no drop since
      expect(trail).toEqual([
        `warn: ${messages.QOS0_DROPPED('SlowA', 1)}`,
        `warn: ${messages.QOS0_DROPPED('SlowB', 2)}`,
        `warn: ${messages.QOS0_DROPPED('SlowA', 1)}`,
      ]);
      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(60_000);
      expect(trail).toHaveLength(3); // nothing more to say

      // After a quiet period without drops, the next drop is warned at once again.
      void pipeline.handle(packet('b', '', 0));
      expect(trail[3]).toBe(`warn: ${messages.QOS0_DROPPED('SlowB', 1)}`);
    });
  });

  describe('message events', () => {
    it('are emitted for every handled, failed and timed-out call while someone listens', async () => {
      jest.useFakeTimers();
      try {
        const { pipeline, add, bus, dispatcher } = setup({ handlerTimeout: 20, qos0QueueLimit: 0 });
        const run = jest.spyOn(dispatcher, 'run');
        bus.observed = true;
        add('Quiet', 'q', () => undefined);
        add('Bad', 'b', () => Promise.reject(new Error('bad')));
        add('Stuck', 's', () => new Promise(() => undefined));
        void pipeline.handle(packet('q', '', 0));
        expect(run.mock.calls.map(([, reportAll]) => reportAll)).toEqual([true]);
        void pipeline.handle(packet('b', '', 0));
        void pipeline.handle(packet('s', '', 0));
        void pipeline.handle(packet('s', '', 0)); // dropped: no event for it
        await jest.advanceTimersByTimeAsync(20);
        const events = bus.emit.mock.calls.map(([e]) => [e.handler, e.outcome]);
        expect(events).toEqual([
          ['Quiet', 'handled'],
          ['Bad', 'failed'],
          ['Stuck', 'timeout'],
        ]);
        expect(bus.emit.mock.calls[0][0]).toEqual({
          type: 'message',
          handler: 'Quiet',
          topic: 'q',
          outcome: 'handled',
          durationMs: expect.any(Number),
        });
      } finally {
        jest.useRealTimers();
      }
    });

    it('are not emitted, nor successes reported, while nobody listens', async () => {
      const { pipeline, add, bus, dispatcher } = setup();
      const run = jest.spyOn(dispatcher, 'run');
      add('Quiet', 'x', () => Promise.resolve(undefined));
      await pipeline.handle(packet('x'));
      expect(run.mock.calls.map(([, reportAll]) => reportAll)).toEqual([false]);
      expect(bus.emit).not.toHaveBeenCalled();
    });
  });
});

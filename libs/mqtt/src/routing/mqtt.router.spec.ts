import type { IPublishPacket } from 'mqtt';
import { MqttSubscribeError } from '../errors/mqtt-subscribe.error';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import type { MqttSubscribeOptions } from '../interfaces/subscribe-options.interface';
import {
  MqttRouter,
  type MqttBrokerSubscription,
  type MqttHandlerDefinition,
  type MqttRoute,
} from './mqtt.router';

/** A PUBLISH packet as MQTT.js hands it over. */
function packet(topic: string, payload = '', properties?: IPublishPacket['properties']) {
  const bytes = Buffer.from(payload);
  const p: IPublishPacket = {
    cmd: 'publish',
    topic,
    payload: bytes,
    qos: 1,
    retain: false,
    dup: false,
  };
  return properties ? { ...p, properties } : p;
}

/** A copy of a message sent for the MQTT 5 subscription identifier(s) `ids`. */
function copyFor(topic: string, ids: number | number[], payload = ''): IPublishPacket {
  return packet(topic, payload, { subscriptionIdentifier: ids });
}

/** A handler definition with one group of filters; the router must never run it. */
function def(name: string, filters: string | string[], options: MqttSubscribeOptions = {}) {
  const invoke = () => {
    throw new Error('the router must never run a handler');
  };
  const list = typeof filters === 'string' ? [filters] : filters;
  return { name, subscriptions: [{ filters: list, options }], invoke } as MqttHandlerDefinition;
}

const routesOf = (router: MqttRouter, p: IPublishPacket | string): readonly MqttRoute[] =>
  router.route(typeof p === 'string' ? packet(p) : p);

/** The names of the handlers `p` goes to, in order. */
const names = (router: MqttRouter, p: IPublishPacket | string): string[] =>
  routesOf(router, p).map((r) => r.handler.name);

/** [handler, filter] of each route of `p`. */
const routed = (router: MqttRouter, p: IPublishPacket | string): Array<[string, string]> =>
  routesOf(router, p).map((r) => [r.handler.name, r.message.filter]);

/** The message `p` brings to the handler `name` (fails when it brings none). */
function messageFor(router: MqttRouter, p: IPublishPacket | string, name: string): MqttMessage {
  const route = routesOf(router, p).find((r) => r.handler.name === name);
  if (!route) throw new Error(`no route to ${name}`);
  return route.message;
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

const byFilter = (router: MqttRouter): Record<string, MqttBrokerSubscription> =>
  Object.fromEntries(router.brokerSubscriptions().map((s) => [s.filter, s]));

function brokerFilters(router: MqttRouter): string[] {
  const filters = router.brokerSubscriptions().map((s) => s.filter);
  return filters.sort();
}

describe('MqttRouter', () => {
  describe('register()', () => {
    it('subscribes each distinct broker filter once, at the highest QoS any handler asks', () => {
      const router = new MqttRouter();
      router.register(def('A', ['a/+', 'b'], { qos: 0 }));
      router.register(def('B', ['a/+', 'c/#'], { qos: 2 }));
      router.register(def('C', ['b', 'c/#'], { qos: 1 }));

      const subs = byFilter(router);
      expect(Object.keys(subs).sort()).toEqual(['a/+', 'b', 'c/#']);
      expect([subs['a/+'].qos, subs['b'].qos, subs['c/#'].qos]).toEqual([2, 1, 2]);
      const holders = (filter: string) => [...subs[filter].handlers].map((h) => h.name);
      expect([holders('a/+'), holders('b'), holders('c/#')]).toEqual([
        ['A', 'B'],
        ['A', 'C'],
        ['B', 'C'],
      ]);
      expect(new Set(router.brokerSubscriptions().map((s) => s.id)).size).toBe(3);
      expect(router.allHandlers().map((h) => h.name)).toEqual(['A', 'B', 'C']);
    });

    it('copies nl / rap / rh and defaults them', () => {
      const router = new MqttRouter();
      router.register(def('A', 'x', { nl: true, rap: true, rh: 2, qos: 1 }));
      router.register(def('B', 'y'));
      const subs = byFilter(router);
      expect(subs['x']).toMatchObject({ qos: 1, nl: true, rap: true, rh: 2 });
      expect(subs['y']).toMatchObject({ qos: 0, nl: false, rap: false, rh: 0 });
      expect(subs['x'].granted).toBeUndefined();
    });

    it('reports in `changed` the new subscriptions and the QoS raises only', () => {
      const router = new MqttRouter();
      const first = router.register(def('A', ['a', 'b'], { qos: 1 }));
      expect(first.changed.map((s) => s.filter)).toEqual(['a', 'b']);
      for (const sub of first.changed) router.setGranted(sub.filter, sub.qos);

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
      const router = new MqttRouter();
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

    it('setGranted() records the SUBACK code of a known filter and ignores unknown ones', () => {
      const router = new MqttRouter();
      router.register(def('A', 'a', { qos: 2 }));
      const granted = (code: number | undefined) => {
        router.setGranted('a', code);
        return byFilter(router)['a'].granted;
      };
      expect([granted(1), granted(0x87), granted(undefined)]).toEqual([1, 0x87, undefined]);
      router.setGranted('unknown', 0);
      expect(brokerFilters(router)).toEqual(['a']);
    });

    it('`share` subscribes `$share/<group>/…`; the handler keeps the filter as written', () => {
      const router = new MqttRouter();
      const { handler, changed } = router.register(
        def('Shared.handle', 'sensors/+deviceId/temp', { share: 'workers', qos: 1 }),
      );
      expect(changed.map((s) => s.filter)).toEqual(['$share/workers/sensors/+/temp']);
      expect(brokerFilters(router)).toEqual(['$share/workers/sensors/+/temp']);
      expect(handler.filters).toEqual(['sensors/+deviceId/temp']);

      const message = messageFor(router, 'sensors/d7/temp', 'Shared.handle');
      expect(message.filter).toBe('sensors/+deviceId/temp');
      expect(message.params).toEqual({ deviceId: 'd7' });
    });

    it('the `defaultShare` argument shares every filter that has no group of its own', () => {
      const router = new MqttRouter();
      const { handler } = router.register(def('Def.handle', ['x/+', 'y']), 'grp');
      router.register(def('Own.handle', '$share/own/z'), 'grp');
      router.register(def('Opt.handle', 'w', { share: 'opt' }), 'grp');

      expect(brokerFilters(router)).toEqual([
        '$share/grp/x/+',
        '$share/grp/y',
        '$share/opt/w',
        '$share/own/z',
      ]);
      expect(handler.filters).toEqual(['x/+', 'y']);
      expect(routed(router, 'x/1')).toEqual([['Def.handle', 'x/+']]);
      expect(routed(router, 'y')).toEqual([['Def.handle', 'y']]);
    });

    it('`share: false` opts out of the default group', () => {
      const router = new MqttRouter();
      const { handler } = router.register(def('Private.handle', 'p/#', { share: false }), 'grp');
      expect(brokerFilters(router)).toEqual(['p/#']);
      expect(handler.filters).toEqual(['p/#']);
    });

    it('keeps shared and plain subscriptions of one filter apart, and both receive', () => {
      const router = new MqttRouter();
      router.register(def('Shared', 't/+', { qos: 1 }), 'g');
      router.register(def('Plain', 't/+', { share: false, qos: 0 }), 'g');
      const subs = byFilter(router);
      expect(Object.keys(subs).sort()).toEqual(['$share/g/t/+', 't/+']);
      expect(subs['$share/g/t/+'].qos).toBe(1);
      expect(subs['t/+'].qos).toBe(0);
      expect(names(router, 't/1')).toEqual(['Shared', 'Plain']);
    });

    const invalid = [
      'a/#/b',
      'a/b#',
      'a/b+',
      '',
      'a/+bad-name',
      'a/+x/+x',
      '$share/g',
      '$share//a',
    ];
    it.each([...invalid, 'a/\0'])(
      'rejects the invalid filter %j with an MqttSubscribeError naming the handler',
      (filter) => {
        const router = new MqttRouter();
        const error = thrown(() => router.register(def('Bad.handler', ['ok', filter])));
        expect(error).toBeInstanceOf(MqttSubscribeError);
        expect(error.name).toBe('MqttSubscribeError');
        expect(error.message).toContain('Bad.handler');
        expect(error.message).toContain(JSON.stringify(filter));
      },
    );

    it('rejects an invalid share group with an MqttSubscribeError naming the handler', () => {
      const router = new MqttRouter();
      const error = thrown(() => router.register(def('Group.handler', 'a', { share: 'x/y' })));
      expect(error).toBeInstanceOf(MqttSubscribeError);
      expect(error.message).toContain('Group.handler');
      const viaDefault = thrown(() => router.register(def('Default.handler', 'a'), 'g+'));
      expect(viaDefault).toBeInstanceOf(MqttSubscribeError);
      expect(viaDefault.message).toContain('Default.handler');
    });

    it('rejects a handler without any filter', () => {
      const router = new MqttRouter();
      const noFilter = thrown(() => router.register(def('Empty.handler', [])));
      expect(noFilter).toBeInstanceOf(MqttSubscribeError);
      expect(noFilter.message).toContain('Empty.handler');
      const noGroup = thrown(() =>
        router.register({ name: 'None.handler', subscriptions: [], invoke: () => undefined }),
      );
      expect(noGroup).toBeInstanceOf(MqttSubscribeError);
      expect(noGroup.message).toContain('None.handler');
    });

    it.each([
      ...[0, NaN, 1.5, -1, Infinity].map((value) => ['concurrency', value] as const),
      ...[-1, NaN, Infinity].map((value) => ['timeout', value] as const),
    ])('rejects %s %p with an MqttSubscribeError naming the handler', (option, value) => {
      const router = new MqttRouter();
      const error = thrown(() => router.register(def('Opt.handler', 'a', { [option]: value })));
      expect(error).toBeInstanceOf(MqttSubscribeError);
      expect(error.message).toContain('Opt.handler');
      expect(error.message).toContain(String(value));
      expect(router.allHandlers()).toEqual([]);
      expect(router.brokerSubscriptions()).toEqual([]);
    });

    it('takes the highest concurrency and timeout of its groups; any on-receipt group wins', () => {
      const router = new MqttRouter();
      const one = router.register(def('One', 'a')).handler;
      expect(one).toMatchObject({ concurrency: 1, timeout: undefined, ackOnReceipt: false });
      const { handler } = router.register({
        name: 'Many',
        subscriptions: [
          { filters: ['b'], options: { concurrency: 4, timeout: 0 } },
          { filters: ['c'], options: { concurrency: 2, timeout: 250, ack: 'on-receipt' } },
          { filters: ['d'], options: { ack: 'after-handler' } },
        ],
        invoke: () => undefined,
      });
      expect(handler).toMatchObject({ concurrency: 4, timeout: 250, ackOnReceipt: true });
      expect(router.register(def('Zero', 'z', { timeout: 0 })).handler.timeout).toBe(0);
    });

    it('gives the values of named wildcards in message.params', () => {
      const router = new MqttRouter();
      router.register(def('Sensors', 'sensors/+site/+deviceId/temp'));
      router.register(def('Logs', 'logs/#path'));
      router.register(def('Plain', 'plain/+'));
      expect(brokerFilters(router)).toEqual(['logs/#', 'plain/+', 'sensors/+/+/temp']);

      const params = (topic: string, name: string) => messageFor(router, topic, name).params;
      expect(params('sensors/lab/d1/temp', 'Sensors')).toEqual({ site: 'lab', deviceId: 'd1' });
      expect(params('sensors//d2/temp', 'Sensors')).toEqual({ site: '', deviceId: 'd2' });
      expect(params('logs/app/db/slow', 'Logs')).toEqual({ path: 'app/db/slow' });
      expect(params('logs', 'Logs')).toEqual({ path: '' });
      expect(params('plain/x', 'Plain')).toEqual({});
      expect(messageFor(router, 'sensors/a/b/temp', 'Sensors').filter).toBe(
        'sensors/+site/+deviceId/temp',
      );
    });

    describe('a registration that throws leaves no trace', () => {
      it('does not keep the subscriptions of the filters before the invalid one', () => {
        const router = new MqttRouter();
        expect(() => router.register(def('Bad', ['ok/1', 'bad/#/x']))).toThrow(MqttSubscribeError);
        expect(router.brokerSubscriptions()).toEqual([]);
        expect(router.route(packet('ok/1'))).toEqual([]);

        // A valid handler on the same filter must get it subscribed at the broker.
        const { changed } = router.register(def('Good', 'ok/1'));
        expect(changed.map((s) => s.filter)).toEqual(['ok/1']);
        expect(names(router, 'ok/1')).toEqual(['Good']);
      });

      it('does not keep the subscriptions of the groups before an invalid concurrency', () => {
        const router = new MqttRouter();
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
        const router = new MqttRouter();
        router.register(def('Existing', 'q', { qos: 0 }));
        router.setGranted('q', 0);
        expect(() => router.register(def('Bad', ['q', 'bad+']))).toThrow(MqttSubscribeError);
        expect(() => router.register(def('Bad2', ['q', 'bad+'], { qos: 2 }))).toThrow(
          MqttSubscribeError,
        );
        expect(byFilter(router)['q']).toMatchObject({ qos: 0, granted: 0 });
        expect(names(router, 'q')).toEqual(['Existing']);
        // Asking for QoS 2 for real must still be reported, to be sent to the broker.
        expect(router.register(def('Good', 'q', { qos: 2 })).changed.map((s) => s.filter)).toEqual([
          'q',
        ]);
      });
    });
  });

  describe('route()', () => {
    it('routes to every matching handler once, in registration order, and no other', () => {
      const router = new MqttRouter();
      router.register(def('exact', 'home/kitchen/temp'));
      router.register(def('plus', 'home/+/temp'));
      router.register(def('hash', 'home/#'));
      router.register(def('all', '#'));
      router.register(def('other', 'office/+/temp'));
      router.register(def('deeper', 'home/kitchen/temp/x'));

      expect(names(router, 'home/kitchen/temp')).toEqual(['exact', 'plus', 'hash', 'all']);
      expect(names(router, 'office/a/temp')).toEqual(['all', 'other']);
    });

    it('hands each handler the topic, the payload, the packet and the filter; runs nothing', () => {
      const router = new MqttRouter();
      const invoke = jest.fn();
      const { handler } = router.register({
        name: 'H',
        subscriptions: [{ filters: ['a/+'], options: {} }],
        invoke,
      });
      const p = packet('a/b', 'hello');
      const routes = router.route(p);
      expect(routes).toHaveLength(1);
      expect(routes[0].handler).toBe(handler);
      const m = routes[0].message;
      expect(m.topic).toBe('a/b');
      expect(m.payload).toBe(p.payload);
      expect(m.payload.toString()).toBe('hello');
      expect(m.packet).toBe(p);
      expect(m.filter).toBe('a/+');
      expect(invoke).not.toHaveBeenCalled();
    });

    it('does not match `$` topics with leading wildcards', () => {
      const router = new MqttRouter();
      router.register(def('All', '#'));
      router.register(def('Sys', '$SYS/#'));
      expect(names(router, '$SYS/uptime')).toEqual(['Sys']);
      expect(names(router, 'uptime')).toEqual(['All']);
    });

    it('routes a handler with overlapping filters once per message', () => {
      const router = new MqttRouter();
      router.register(def('Overlap', ['a/+', 'a/#', 'a/b']));
      expect(routed(router, 'a/b')).toEqual([['Overlap', 'a/+']]);
      expect(routed(router, 'a/c')).toEqual([['Overlap', 'a/+']]);
      expect(routed(router, 'a/b/c')).toEqual([['Overlap', 'a/#']]);
      expect(routed(router, 'a')).toEqual([['Overlap', 'a/#']]);
    });

    it('returns no route when no handler matches', () => {
      const router = new MqttRouter();
      expect(router.route(packet('x'))).toEqual([]);
      router.register(def('H', 'a'));
      expect(router.route(packet('b'))).toEqual([]);
      expect(router.route(packet('a/b'))).toEqual([]);
    });
  });

  describe('MQTT 5 subscription identifiers', () => {
    it('routes a handler with two overlapping subscriptions once for the two copies', () => {
      const router = new MqttRouter();
      router.register(def('Both', ['a/+', 'a/#']));
      const subs = byFilter(router);
      const plus = subs['a/+'].id;
      const hash = subs['a/#'].id;
      expect(plus).not.toBe(hash);

      expect(routed(router, copyFor('a/b', plus))).toEqual([['Both', 'a/+']]);
      expect(routed(router, copyFor('a/b', hash))).toEqual([]);
      // Copies arriving in the other order: still once.
      expect(routed(router, copyFor('a/c', hash))).toEqual([]);
      expect(routed(router, copyFor('a/c', plus))).toEqual([['Both', 'a/+']]);
      // A topic only 'a/#' matches comes in one copy, and is routed.
      expect(routed(router, copyFor('a/b/c', hash))).toEqual([['Both', 'a/#']]);
    });

    it('routes each of two handlers on the copy of its own subscription', () => {
      const router = new MqttRouter();
      router.register(def('Plus', 'a/+'));
      router.register(def('Hash', 'a/#'));
      const subs = byFilter(router);
      const forPlus = router.route(copyFor('a/b', subs['a/+'].id, 'for plus'));
      expect(forPlus.map((r) => [r.handler.name, r.message.payload.toString()])).toEqual([
        ['Plus', 'for plus'],
      ]);
      const forHash = router.route(copyFor('a/b', subs['a/#'].id, 'for hash'));
      expect(forHash.map((r) => [r.handler.name, r.message.payload.toString()])).toEqual([
        ['Hash', 'for hash'],
      ]);
    });

    it('routes to every handler once for one copy carrying several identifiers', () => {
      const router = new MqttRouter();
      router.register(def('Plus', 'a/+'));
      router.register(def('Hash', 'a/#'));
      router.register(def('Both', ['a/#', 'a/+']));
      const subs = byFilter(router);
      expect(names(router, copyFor('a/b', [subs['a/+'].id, subs['a/#'].id]))).toEqual([
        'Plus',
        'Hash',
        'Both',
      ]);
    });

    it('routes nowhere a copy of a subscription no matching handler holds', () => {
      const router = new MqttRouter();
      router.register(def('A', 'a/+'));
      router.register(def('Other', 'zzz'));
      expect(router.route(copyFor('a/b', byFilter(router)['zzz'].id))).toEqual([]);
    });

    it('routes by identifier for shared subscriptions too', () => {
      const router = new MqttRouter();
      router.register(def('Shared', 'a/+'), 'g');
      router.register(def('Plain', 'a/+', { share: false }), 'g');
      const subs = byFilter(router);
      expect(names(router, copyFor('a/1', subs['$share/g/a/+'].id))).toEqual(['Shared']);
      expect(names(router, copyFor('a/1', subs['a/+'].id))).toEqual(['Plain']);
    });

    it('does not wait for the copy of a subscription the broker refused', () => {
      const router = new MqttRouter();
      router.register(def('Both', ['a/+', 'a/#']));
      const subs = byFilter(router);
      router.setGranted('a/+', 0x87);
      expect(routed(router, copyFor('a/b', subs['a/#'].id))).toEqual([['Both', 'a/#']]);
      router.setGranted('a/+', 1);
      expect(routed(router, copyFor('a/b', subs['a/#'].id))).toEqual([]);
    });
  });

  describe('unregister()', () => {
    it('returns the broker filters no remaining handler needs', () => {
      const router = new MqttRouter();
      const { handler: ha } = router.register(def('A', ['a', 'shared/+']));
      const { handler: hb } = router.register(def('B', ['shared/+', 'b']));

      expect(router.unregister(ha)).toEqual(['a']);
      expect(brokerFilters(router)).toEqual(['b', 'shared/+']);
      expect(router.allHandlers()).toEqual([hb]);
      expect(names(router, 'shared/1')).toEqual(['B']);
      expect(names(router, 'a')).toEqual([]);

      expect(router.unregister(hb).sort()).toEqual(['b', 'shared/+']);
      expect(router.brokerSubscriptions()).toEqual([]);
      expect(router.allHandlers()).toEqual([]);
      expect(router.route(packet('shared/1'))).toEqual([]);
      expect(router.unregister(hb)).toEqual([]);
    });

    it('returns the `$share/…` filter of a shared handler', () => {
      const router = new MqttRouter();
      const { handler } = router.register(def('S', 'x/+id'), 'g');
      expect(router.unregister(handler)).toEqual(['$share/g/x/+']);
    });

    it('returns each filter once for a handler with duplicate or equivalent filters', () => {
      const router = new MqttRouter();
      const { handler } = router.register(def('Dup', ['a/+x', 'a/+', 'a/+y']));
      expect(brokerFilters(router)).toEqual(['a/+']);
      expect(names(router, 'a/1')).toEqual(['Dup']);
      expect(router.unregister(handler)).toEqual(['a/+']);
      expect(router.route(packet('a/1'))).toEqual([]);
    });
  });

  describe('removeFilter()', () => {
    it('keeps the other filter of a handler working', () => {
      const router = new MqttRouter();
      const { handler } = router.register(def('Two', ['a/+', 'b/+']));
      expect(router.removeFilter('a/+')).toEqual(['a/+']);
      expect(handler.filters).toEqual(['b/+']);
      expect(brokerFilters(router)).toEqual(['b/+']);
      expect(names(router, 'a/1')).toEqual([]);
      expect(names(router, 'b/1')).toEqual(['Two']);
      expect(router.allHandlers()).toEqual([handler]);
    });

    it('keeps an overlapping filter of the same handler working', () => {
      const router = new MqttRouter();
      router.register(def('Overlap', ['a/+', 'a/#']));
      const hashId = byFilter(router)['a/#'].id;
      expect(router.removeFilter('a/+')).toEqual(['a/+']);
      expect(routed(router, 'a/1')).toEqual([['Overlap', 'a/#']]);
      expect(routed(router, copyFor('a/2', hashId))).toEqual([['Overlap', 'a/#']]);
    });

    it('keeps a handler whose other filter has the same match filter', () => {
      const router = new MqttRouter();
      router.register(def('Mixed', ['a/+', '$share/g/a/+']));
      expect(brokerFilters(router)).toEqual(['$share/g/a/+', 'a/+']);
      expect(router.removeFilter('a/+')).toEqual(['a/+']);
      expect(routed(router, 'a/1')).toEqual([['Mixed', '$share/g/a/+']]);
    });

    it('returns the filter only when no other handler needs it', () => {
      const router = new MqttRouter();
      const { handler: ha } = router.register(def('A', ['s', 'only-a']));
      router.register(def('B', 's'));
      const { handler: hc } = router.register(def('C', 'only-c'));

      // 's' leaves both A and B: B had no other filter, so it is gone.
      expect(router.removeFilter('s')).toEqual(['s']);
      expect(router.allHandlers()).toEqual(expect.arrayContaining([ha, hc]));
      expect(router.allHandlers()).toHaveLength(2);
      expect(names(router, 's')).toEqual([]);
      expect(names(router, 'only-a')).toEqual(['A']);
      expect(router.removeFilter('s')).toEqual([]);
      expect(router.removeFilter('never/registered')).toEqual([]);
    });

    it('removes a shared filter given in its `$share/<group>/…` form', () => {
      const router = new MqttRouter();
      const { handler } = router.register(def('S', ['x/+id', 'y']), 'g');
      router.register(def('P', 'x/+', { share: false }), 'g');

      expect(router.removeFilter('$share/g/x/+')).toEqual(['$share/g/x/+']);
      expect(handler.filters).toEqual(['y']);
      expect(brokerFilters(router)).toEqual(['$share/g/y', 'x/+']);
      expect(names(router, 'x/1')).toEqual(['P']);
      expect(names(router, 'y')).toEqual(['S']);
    });

    it('removes a shared filter given as written (from every handler using it)', () => {
      const router = new MqttRouter();
      const { handler } = router.register(def('S', ['x/+', 'y']), 'g');
      router.register(def('P', 'x/+', { share: false }), 'g');
      expect(router.removeFilter('x/+').sort()).toEqual(['$share/g/x/+', 'x/+']);
      expect(handler.filters).toEqual(['y']);
      expect(brokerFilters(router)).toEqual(['$share/g/y']);
      expect(router.route(packet('x/1'))).toEqual([]);
    });
  });

  describe('topic cache', () => {
    it('stays correct across register / unregister / removeFilter between lookups', () => {
      const router = new MqttRouter();
      expect(names(router, 't/1')).toEqual([]); // cached as "no handler"
      const { handler: ha } = router.register(def('A', 't/+'));
      expect(names(router, 't/1')).toEqual(['A']);

      const { handler: hb } = router.register(def('B', ['t/#', 'u']));
      expect(names(router, 't/1')).toEqual(['A', 'B']);

      router.unregister(ha);
      expect(names(router, 't/1')).toEqual(['B']);

      router.removeFilter('t/#');
      expect(names(router, 't/1')).toEqual([]);

      expect(names(router, 'u')).toEqual(['B']);
      router.unregister(hb);
      expect(names(router, 'u')).toEqual([]);
    });

    it('routes 20,000 distinct topics right (cache bypassed), then repeated topics too', () => {
      const router = new MqttRouter();
      router.register(def('Dev', 'dev/+id/temp'));
      router.register(def('All', 'dev/#'));
      router.register(def('Other', 'other/+'));

      let wrong = 0;
      for (let i = 0; i < 20_000; i++) {
        if (i % 3 === 0) {
          if (names(router, `other/${i}`).join() !== 'Other') wrong++;
        } else {
          const routes = router.route(packet(`dev/${i}/temp`));
          const ok =
            routes.map((r) => r.handler.name).join() === 'Dev,All' &&
            routes[0].message.params.id === String(i);
          if (!ok) wrong++;
        }
        if (i % 5 === 0 && router.route(packet(`nobody/${i}`)).length !== 0) wrong++;
      }
      expect(wrong).toBe(0);

      // Repeated topics, with handler changes in between.
      for (let i = 0; i < 5; i++) expect(names(router, 'dev/1/temp')).toEqual(['Dev', 'All']);
      const { handler } = router.register(def('Late', 'dev/1/+'));
      expect(names(router, 'dev/1/temp')).toEqual(['Dev', 'All', 'Late']);
      router.unregister(handler);
      expect(names(router, 'dev/1/temp')).toEqual(['Dev', 'All']);
    });

    it('stays correct when the cache is switched back on after a run of distinct topics', () => {
      const router = new MqttRouter();
      const { handler } = router.register(def('Any', 'z/+'));
      // Enough lookups for the cache to be bypassed and then sampled again.
      const N = 4096 * 20;
      let wrong = 0;
      for (let i = 0; i < N; i++) if (router.route(packet(`z/${i}`)).length !== 1) wrong++;
      expect(wrong).toBe(0);

      // A hot topic, with changes between its lookups, in every phase of the cache.
      let late = 0;
      for (let round = 0; round < 3 * 4096; round++) {
        if (names(router, 'z/hot').join() !== 'Any') wrong++;
        if (round % 1000 === 0) {
          const added = router.register(def('Late', 'z/hot'));
          if (names(router, 'z/hot').join() === 'Any,Late') late++;
          router.unregister(added.handler);
          if (names(router, 'z/hot').join() !== 'Any') wrong++;
        }
      }
      expect(wrong).toBe(0);
      expect(late).toBe(Math.ceil((3 * 4096) / 1000));

      router.unregister(handler);
      expect(router.route(packet('z/hot'))).toEqual([]);
    });

    it('stays correct when the cache fills up and starts over', () => {
      const router = new MqttRouter();
      router.register(def('K', 'k/+'));
      // Half the lookups are hits, so the cache stays on while more than 10,000 topics pass.
      let wrong = 0;
      for (let i = 0; i < 25_000; i++) {
        if (names(router, 'k/hot').join() !== 'K') wrong++;
        if (names(router, `k/${i}`).join() !== 'K') wrong++;
      }
      expect(wrong).toBe(0);
      router.register(def('Late', 'k/hot'));
      expect(names(router, 'k/hot')).toEqual(['K', 'Late']);
      expect(names(router, 'k/1')).toEqual(['K']);
    });
  });
});

/**
 * Section 1 (discovery of @Subscribe handlers, one broker subscription per filter, options) and
 * section 2 (MQTT matching rules, every matching handler runs, a method runs once per message)
 * against aedes (MQTT 3.1.1) and Mosquitto (3.1.1 and MQTT 5).
 */
import { Controller, Injectable } from '@nestjs/common';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { MqttSubscribeError, Packet, Payload, Subscribe, Topic } from 'nestjs-mqtt';
import {
  closeClient,
  connectClient,
  describeWithMosquitto,
  closeApp,
  rejectionOf,
  startAedes,
  startMosquitto,
  until,
  type AedesBroker,
  type MosquittoBroker,
} from './support';
import {
  compileApp,
  Fence,
  loggedSubscriptions,
  startApp,
  type StartedApp,
} from './fixtures/routing-helpers';

type Hit = { handler: string; topic: string; qos?: number };

/** Records every call of every handler of the suite, in order. */
@Injectable()
class Hits {
  readonly all: Hit[] = [];
  add(handler: string, topic: string, qos?: number): void {
    this.all.push({ handler, topic, qos });
  }
  of(handler: string): string[] {
    return this.all.filter((h) => h.handler === handler).map((h) => h.topic);
  }
}

// ---- Section 1: discovery ------------------------------------------------------------------

@Injectable()
class DiscoveredProvider {
  constructor(private readonly hits: Hits) {}

  @Subscribe('disc/provider')
  onProvider(_payload: Buffer, topic: string): void {
    this.hits.add('provider', topic);
  }

  @Subscribe('disc/stacked/a')
  @Subscribe('disc/stacked/b', { qos: 1 })
  onStacked(_payload: Buffer, topic: string): void {
    this.hits.add('stacked', topic);
  }

  @Subscribe(['disc/list/1', 'disc/list/2'])
  onList(_payload: Buffer, topic: string): void {
    this.hits.add('list', topic);
  }
}

@Controller()
class DiscoveredController {
  constructor(private readonly hits: Hits) {}

  @Subscribe('disc/controller')
  onController(@Topic() topic: string, @Payload() body: string): void {
    this.hits.add('controller', `${topic}=${body}`);
  }
}

/** Three handlers on one filter asking QoS 0, 2 and 1, and one on another filter. */
@Injectable()
class SharedFilterHandlers {
  constructor(private readonly hits: Hits) {}

  @Subscribe('qos/x')
  q0(_p: Buffer, topic: string, packet: IPublishPacket): void {
    this.hits.add('q0', topic, packet.qos);
  }

  @Subscribe('qos/x', { qos: 2 })
  q2(_p: Buffer, topic: string, packet: IPublishPacket): void {
    this.hits.add('q2', topic, packet.qos);
  }

  @Subscribe('qos/x', { qos: 1 })
  q1(_p: Buffer, topic: string, packet: IPublishPacket): void {
    this.hits.add('q1', topic, packet.qos);
  }

  @Subscribe('qos/low')
  low(_p: Buffer, topic: string, packet: IPublishPacket): void {
    this.hits.add('low', topic, packet.qos);
  }
}

@Injectable()
class ShareHandlers {
  constructor(private readonly hits: Hits) {}

  @Subscribe('$share/g-1/shr/+')
  prefixed(_p: Buffer, topic: string): void {
    this.hits.add('prefixed', topic);
  }

  @Subscribe('sho/#', { share: 'team.a-2' })
  option(_p: Buffer, topic: string): void {
    this.hits.add('option', topic);
  }

  @Subscribe('$share/g-1/shr/#')
  overlapping(_p: Buffer, topic: string): void {
    this.hits.add('overlapping', topic);
  }
}

// Invalid filters: each class is bootstrapped alone and must fail.
@Injectable()
class HashInMiddle {
  @Subscribe('a/#/b')
  handle(): void {}
}
@Injectable()
class HashInLevel {
  @Subscribe('a/b#')
  handle(): void {}
}
@Injectable()
class UnreadNamedWildcard {
  @Subscribe('a/+x')
  handle(): void {}
}
@Injectable()
class EmptyFilter {
  @Subscribe('ok/topic')
  @Subscribe('')
  handle(): void {}
}
@Controller()
class BadInController {
  @Subscribe(['good/+', 'bad/+plus+'])
  handle(): void {}
}

// ---- MQTT 5 subscription options ----------------------------------------------------------

@Injectable()
class V5OptionHandlers {
  constructor(private readonly hits: Hits) {}

  @Subscribe('nl/+', { nl: true })
  noLocal(_p: Buffer, topic: string): void {
    this.hits.add('noLocal', topic);
  }

  @Subscribe('nl/x')
  local(_p: Buffer, topic: string): void {
    this.hits.add('local', topic);
  }

  @Subscribe('rap/+', { rap: true })
  rap(@Topic() topic: string, @Packet() packet: IPublishPacket): void {
    this.hits.add('rap', `${topic} retain=${packet.retain}`);
  }

  @Subscribe('norap/+')
  noRap(@Topic() topic: string, @Packet() packet: IPublishPacket): void {
    this.hits.add('noRap', `${topic} retain=${packet.retain}`);
  }

  @Subscribe('rh/+', { rh: 2 })
  rhNever(@Topic() topic: string, @Payload() body: string): void {
    this.hits.add('rh2', `${topic}=${body}`);
  }

  @Subscribe('rh/a')
  rhAlways(
    @Topic() topic: string,
    @Payload() body: string,
    @Packet() packet: IPublishPacket,
  ): void {
    this.hits.add('rh0', `${topic}=${body} retain=${packet.retain}`);
  }
}

// ---- Section 2: matching -------------------------------------------------------------------

@Injectable()
class MatchHandlers {
  constructor(private readonly hits: Hits) {}

  @Subscribe('m/+/c')
  plusMiddle(_p: Buffer, topic: string): void {
    this.hits.add('m/+/c', topic);
  }

  @Subscribe('m/#')
  hashAll(_p: Buffer, topic: string): void {
    this.hits.add('m/#', topic);
  }

  @Subscribe('m/b/c')
  exact(_p: Buffer, topic: string): void {
    this.hits.add('m/b/c', topic);
  }

  @Subscribe('m/b/+')
  plusLast(_p: Buffer, topic: string): void {
    this.hits.add('m/b/+', topic);
  }

  @Subscribe('+/b/c')
  plusFirst(_p: Buffer, topic: string): void {
    this.hits.add('+/b/c', topic);
  }

  @Subscribe(['m/#', 'm/+/c', 'm/b/c'])
  overlappingList(_p: Buffer, topic: string): void {
    this.hits.add('list', topic);
  }

  @Subscribe('m/+/+')
  @Subscribe('m/b/#')
  overlappingStacked(_p: Buffer, topic: string): void {
    this.hits.add('stacked', topic);
  }
}

@Injectable()
class DollarHandlers {
  constructor(private readonly hits: Hits) {}

  @Subscribe('$x/#')
  dollar(_p: Buffer, topic: string): void {
    this.hits.add('$x/#', topic);
  }

  @Subscribe('#')
  everything(_p: Buffer, topic: string): void {
    if (!topic.startsWith('fence/')) this.hits.add('#', topic);
  }

  @Subscribe('+/y')
  plusY(_p: Buffer, topic: string): void {
    this.hits.add('+/y', topic);
  }

  @Subscribe('+/+')
  plusPlus(_p: Buffer, topic: string): void {
    if (!topic.startsWith('fence/')) this.hits.add('+/+', topic);
  }
}

@Injectable()
class SysHandlers {
  constructor(private readonly hits: Hits) {}

  @Subscribe('$SYS/broker/uptime')
  uptime(_p: Buffer, topic: string): void {
    this.hits.add('uptime', topic);
  }

  @Subscribe('#')
  everything(_p: Buffer, topic: string): void {
    if (!topic.startsWith('fence/')) this.hits.add('#', topic);
  }

  @Subscribe('+/broker/uptime')
  plus(_p: Buffer, topic: string): void {
    this.hits.add('+/broker/uptime', topic);
  }
}

@Injectable()
class EmptyLevelHandlers {
  constructor(private readonly hits: Hits) {}

  @Subscribe('e/+/c')
  middle(_p: Buffer, topic: string): void {
    this.hits.add('e/+/c', topic);
  }

  @Subscribe('e/+')
  last(_p: Buffer, topic: string): void {
    this.hits.add('e/+', topic);
  }

  @Subscribe('p/#')
  parent(_p: Buffer, topic: string): void {
    this.hits.add('p/#', topic);
  }

  @Subscribe('+/+/+')
  three(_p: Buffer, topic: string): void {
    if (topic.startsWith('e/')) this.hits.add('+/+/+', topic);
  }
}

const sorted = (xs: string[]): string[] => [...xs].sort();

describeWithMosquitto('routing', () => {
  let mosquitto: MosquittoBroker;
  let aedes: AedesBroker;
  let current: StartedApp | undefined;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    [mosquitto, aedes] = await Promise.all([
      startMosquitto({ extra: ['sys_interval 1'] }),
      startAedes(),
    ]);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
    await Promise.all(clients.splice(0).map((c) => closeClient(c)));
  });
  afterAll(async () => {
    await Promise.all([mosquitto?.stop(), aedes?.stop()]);
  });

  const brokers = () =>
    ({ aedes: aedes, mosquitto: mosquitto }) as Record<'aedes' | 'mosquitto', { port: number }>;

  describe('discovery (section 1)', () => {
    it('finds @Subscribe on providers and controllers, stacked and with filter lists', async () => {
      current = await startApp({
        broker: mosquitto,
        providers: [Hits, Fence, DiscoveredProvider],
        controllers: [DiscoveredController],
      });
      const { mqtt } = current;
      for (const t of [
        'disc/provider',
        'disc/controller',
        'disc/stacked/a',
        'disc/stacked/b',
        'disc/list/1',
        'disc/list/2',
      ]) {
        await mqtt.publish(t, `from ${t}`, { qos: 1 });
      }
      await current.fence();
      const hits = current.get(Hits);
      expect(hits.of('provider')).toEqual(['disc/provider']);
      expect(hits.of('controller')).toEqual(['disc/controller=from disc/controller']);
      expect(hits.of('stacked')).toEqual(['disc/stacked/a', 'disc/stacked/b']);
      expect(hits.of('list')).toEqual(['disc/list/1', 'disc/list/2']);
      expect(sorted(mqtt.topics)).toEqual(
        sorted([
          'disc/provider',
          'disc/controller',
          'disc/stacked/a',
          'disc/stacked/b',
          'disc/list/1',
          'disc/list/2',
          'fence/+',
        ]),
      );
      // What the broker saw: each of those filters subscribed once, with the QoS asked.
      const subs = loggedSubscriptions(mosquitto.readLog(), current.clientId);
      expect(sorted(subs.map((s) => `${s.filter} q${s.qos}`))).toEqual(
        sorted([
          'disc/provider q0',
          'disc/controller q0',
          'disc/stacked/a q0',
          'disc/stacked/b q1',
          'disc/list/1 q0',
          'disc/list/2 q0',
          'fence/+ q0',
        ]),
      );
    });

    it('subscribes a filter shared by several handlers once, with the highest QoS asked', async () => {
      current = await startApp({
        broker: mosquitto,
        providers: [Hits, Fence, SharedFilterHandlers],
      });
      const { mqtt, clientId } = current;
      const subs = loggedSubscriptions(mosquitto.readLog(), clientId);
      expect(subs.filter((s) => s.filter === 'qos/x')).toEqual([{ filter: 'qos/x', qos: 2 }]);
      expect(mqtt.topics.filter((t) => t === 'qos/x')).toHaveLength(1);

      // Published at QoS 2, the message comes down at QoS 2 (the subscription's QoS) to all three.
      await mqtt.publish('qos/x', 'hello', { qos: 2 });
      await mqtt.publish('qos/low', 'hello', { qos: 2 });
      await current.fence();
      const hits = current.get(Hits);
      expect(sorted(hits.all.map((h) => `${h.handler} ${h.topic} q${h.qos}`))).toEqual([
        'low qos/low q0',
        'q0 qos/x q2',
        'q1 qos/x q2',
        'q2 qos/x q2',
      ]);
    });

    it('runtime MqttService.subscribe shares the router: no second SUBSCRIBE unless the QoS rises', async () => {
      current = await startApp({
        broker: mosquitto,
        providers: [Hits, Fence, SharedFilterHandlers],
      });
      const { mqtt, clientId } = current;
      const hits = current.get(Hits);
      const before = loggedSubscriptions(mosquitto.readLog(), clientId).length;

      // Same filter, lower QoS: nothing new at the broker, and both the decorated handlers and
      // the runtime one get the message.
      const runtime = await mqtt.subscribe(
        'qos/x',
        (payload, topic) => hits.add('runtime', `${topic}=${payload.toString()}`),
        { qos: 1 },
      );
      expect(loggedSubscriptions(mosquitto.readLog(), clientId)).toHaveLength(before);

      // A runtime overlap with a higher QoS upgrades the broker subscription once.
      await mqtt.subscribe('qos/low', (_p, topic) => hits.add('runtimeLow', topic), { qos: 2 });
      const after = loggedSubscriptions(mosquitto.readLog(), clientId);
      expect(after.slice(before)).toEqual([{ filter: 'qos/low', qos: 2 }]);
      expect(mqtt.topics.filter((t) => t === 'qos/low')).toHaveLength(1);

      await mqtt.publish('qos/x', 'one', { qos: 1 });
      await mqtt.publish('qos/low', 'two', { qos: 2 });
      await current.fence();
      expect(hits.of('runtime')).toEqual(['qos/x=one']);
      expect(sorted(hits.of('q0').concat(hits.of('q1'), hits.of('q2')))).toEqual([
        'qos/x',
        'qos/x',
        'qos/x',
      ]);
      expect(
        hits.all.filter((h) => h.topic === 'qos/low').map((h) => `${h.handler} q${h.qos}`),
      ).toEqual(expect.arrayContaining(['low q2']));
      expect(hits.of('runtimeLow')).toEqual(['qos/low']);

      // Removing the runtime handler keeps the broker subscription the decorators need.
      await runtime.unsubscribe();
      expect(mqtt.topics).toContain('qos/x');
      await mqtt.publish('qos/x', 'three', { qos: 1 });
      await current.fence();
      expect(hits.of('runtime')).toEqual(['qos/x=one']);
      expect(hits.of('q2')).toEqual(['qos/x', 'qos/x']);

      // Invalid runtime filters are refused by the same validation as @Subscribe.
      const bad = mqtt.subscribe('a/#/b', () => undefined);
      await expect(bad).rejects.toBeInstanceOf(MqttSubscribeError);
      await expect(bad).rejects.toThrow(/"a\/#\/b"/);
    });

    it('sends $share/<group>/ prefixes (group names with "-" and ".") and routes by the rest', async () => {
      current = await startApp({ broker: mosquitto, providers: [Hits, Fence, ShareHandlers] });
      const { mqtt, clientId } = current;
      expect(sorted(mqtt.topics)).toEqual(
        sorted(['$share/g-1/shr/+', '$share/g-1/shr/#', '$share/team.a-2/sho/#', 'fence/+']),
      );
      const subs = loggedSubscriptions(mosquitto.readLog(), clientId).map((s) => s.filter);
      expect(sorted(subs)).toEqual(
        sorted(['$share/g-1/shr/+', '$share/g-1/shr/#', '$share/team.a-2/sho/#', 'fence/+']),
      );

      const publisher = await connectClient(mosquitto.url);
      clients.push(publisher);
      await publisher.publishAsync('shr/1', 'a', { qos: 1 });
      await publisher.publishAsync('shr/1/deep', 'b', { qos: 1 });
      await publisher.publishAsync('sho/x/y', 'c', { qos: 1 });
      const hits = current.get(Hits);
      await until(
        'shared-subscription messages',
        () => hits.of('option').length === 1 && hits.of('overlapping').length === 2,
      );
      await current.fence();
      expect(hits.of('prefixed')).toEqual(['shr/1']);
      expect(hits.of('overlapping')).toEqual(['shr/1', 'shr/1/deep']);
      expect(hits.of('option')).toEqual(['sho/x/y']);
    });

    it.each([
      ['a/#/b', HashInMiddle, 'HashInMiddle.handle', false],
      ['a/b#', HashInLevel, 'HashInLevel.handle', false],
      ['a/+x', UnreadNamedWildcard, 'UnreadNamedWildcard.handle', false],
      ['', EmptyFilter, 'EmptyFilter.handle', false],
      ['bad/+plus+', BadInController, 'BadInController.handle', true],
    ] as const)(
      'fails bootstrap for the invalid filter %j, naming the method and the filter',
      async (filter, cls, name, isController) => {
        const { module, clientId } = await compileApp({
          broker: mosquitto,
          providers: isController ? [] : [cls],
          controllers: isController ? [cls] : [],
        });
        const error = await rejectionOf(module.init()).finally(() => closeApp(module));
        expect(error).toBeInstanceOf(MqttSubscribeError);
        const message = error.message;
        expect(message).toContain(name);
        expect(message).toContain(JSON.stringify(filter));
        // Bootstrap failed before anything was sent to the broker.
        expect(mosquitto.readLog()).not.toContain(clientId);
      },
    );
  });

  describe('MQTT 5 subscription options (section 1)', () => {
    it('nl: a no-local handler does not get the app’s own publishes, but gets others', async () => {
      current = await startApp({
        broker: mosquitto,
        version: 5,
        providers: [Hits, Fence, V5OptionHandlers],
      });
      const { mqtt } = current;
      const hits = current.get(Hits);
      const other = await connectClient(mosquitto.url, { protocolVersion: 5 });
      clients.push(other);

      await mqtt.publish('nl/x', 'own', { qos: 1 });
      await current.fence();
      expect(hits.of('local')).toEqual(['nl/x']);
      expect(hits.of('noLocal')).toEqual([]);

      await other.publishAsync('nl/x', 'foreign', { qos: 1 });
      await until('the foreign message', () => hits.of('noLocal').length === 1);
      await current.fence();
      expect(hits.of('noLocal')).toEqual(['nl/x']);
      expect(hits.of('local')).toEqual(['nl/x', 'nl/x']);
    });

    it('rap keeps the retain flag of live messages; rh 2 sends no retained message at subscribe', async () => {
      const seeder = await connectClient(mosquitto.url, { protocolVersion: 5 });
      clients.push(seeder);
      await seeder.publishAsync('rh/a', 'old', { qos: 1, retain: true });
      try {
        current = await startApp({
          broker: mosquitto,
          version: 5,
          providers: [Hits, Fence, V5OptionHandlers],
        });
        const { mqtt } = current;
        const hits = current.get(Hits);
        await until('the retained message for rh 0', () => hits.of('rh0').length === 1);

        await mqtt.publish('rap/1', 'x', { qos: 1, retain: true });
        await mqtt.publish('norap/1', 'x', { qos: 1, retain: true });
        await current.fence();
        expect(hits.of('rh0')).toEqual(['rh/a=old retain=true']);
        expect(hits.of('rh2')).toEqual([]);
        expect(hits.of('rap')).toEqual(['rap/1 retain=true']);
        expect(hits.of('noRap')).toEqual(['norap/1 retain=false']);
      } finally {
        // An empty retained message deletes the retained one, so later suites start clean.
        for (const t of ['rh/a', 'rap/1', 'norap/1']) {
          await seeder.publishAsync(t, '', { qos: 1, retain: true });
        }
      }
    });
  });

  describe.each([
    ['aedes (MQTT 3.1.1)', 'aedes', 4],
    ['Mosquitto (MQTT 3.1.1)', 'mosquitto', 4],
    ['Mosquitto (MQTT 5)', 'mosquitto', 5],
  ] as const)('matching on %s (section 2)', (_label, brokerName, version) => {
    it('runs every matching handler once, and a method with overlapping filters once per message', async () => {
      current = await startApp({
        broker: brokers()[brokerName],
        version,
        providers: [Hits, Fence, MatchHandlers],
      });
      const { mqtt } = current;
      const hits = current.get(Hits);
      let copies = 0;
      mqtt.client.on('message', (topic: string) => {
        if (topic === 'm/b/c') copies++;
      });

      await mqtt.publish('m/b/c', 'x', { qos: 1 });
      await mqtt.publish('m/z/c', 'y', { qos: 1 });
      await current.fence();

      expect(sorted(hits.all.filter((h) => h.topic === 'm/b/c').map((h) => h.handler))).toEqual(
        sorted(['m/+/c', 'm/#', 'm/b/c', 'm/b/+', '+/b/c', 'list', 'stacked']),
      );
      expect(sorted(hits.all.filter((h) => h.topic === 'm/z/c').map((h) => h.handler))).toEqual(
        sorted(['m/+/c', 'm/#', 'list', 'stacked']),
      );
      // The broker sent one copy (3.1.1) or one per matching subscription (Mosquitto MQTT 5,
      // told apart by subscription identifiers): either way each handler ran once.
      expect(copies).toBeGreaterThanOrEqual(1);
      if (brokerName === 'mosquitto' && version === 5) expect(copies).toBeGreaterThan(1);
    });

    it('"+" matches an empty level, "#" matches its parent level', async () => {
      current = await startApp({
        broker: brokers()[brokerName],
        version,
        providers: [Hits, Fence, EmptyLevelHandlers],
      });
      const { mqtt } = current;
      const hits = current.get(Hits);
      for (const t of ['e//c', 'e/', 'e', 'p', 'p/', 'p/q/r', 'px']) {
        await mqtt.publish(t, 'x', { qos: 1 });
      }
      await current.fence();
      expect(hits.of('e/+/c')).toEqual(['e//c']);
      expect(hits.of('e/+')).toEqual(['e/']);
      expect(hits.of('+/+/+')).toEqual(['e//c']);
      expect(hits.of('p/#')).toEqual(['p', 'p/', 'p/q/r']);
    });

    it('does not route $-topics to filters starting with a wildcard', async () => {
      current = await startApp({
        broker: brokers()[brokerName],
        version,
        providers: [Hits, Fence, DollarHandlers],
      });
      const { mqtt } = current;
      const hits = current.get(Hits);
      await mqtt.publish('$x/y', 'dollar', { qos: 1 });
      await mqtt.publish('x/y', 'plain', { qos: 1 });
      await current.fence();
      expect(hits.of('$x/#')).toEqual(['$x/y']);
      expect(hits.of('#')).toEqual(['x/y']);
      expect(hits.of('+/y')).toEqual(['x/y']);
      expect(hits.of('+/+')).toEqual(['x/y']);
    });
  });

  it('does not route Mosquitto $SYS topics to "#" or "+/..." handlers (section 2)', async () => {
    current = await startApp({ broker: mosquitto, providers: [Hits, Fence, SysHandlers] });
    const hits = current.get(Hits);
    await until('a $SYS/broker/uptime message', () => hits.of('uptime').length >= 1, 5000);
    await current.mqtt.publish('z/broker/uptime', 'plain', { qos: 1 });
    await current.fence();
    expect(hits.of('uptime').every((t) => t === '$SYS/broker/uptime')).toBe(true);
    expect(hits.of('#')).toEqual(['z/broker/uptime']);
    expect(hits.of('+/broker/uptime')).toEqual(['z/broker/uptime']);
  });
});

/**
 * Section 9: lifecycle hooks. @OnMqttConnect, @OnMqttDisconnect, @OnMqttSubscribe (QoS asked and
 * granted, with a log line when the broker downgrades or refuses), @OnMqttLog and
 * @OnMqttEvent('reconnect'). Mosquitto runs with `max_qos 1` (downgrades QoS 2 subscriptions) and
 * the dynamic-security plugin denying subscriptions to `secret/#` (Mosquitto's plain acl_file
 * never refuses a SUBSCRIBE: it only filters deliveries); aedes refuses through
 * `authorizeSubscribe`.
 */
import { Injectable } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OnMqttConnect,
  OnMqttDisconnect,
  OnMqttEvent,
  OnMqttLog,
  OnMqttSubscribe,
  Subscribe,
  type MqttEvent,
} from 'nestjs-mqtt';
import {
  describeWithMosquitto,
  startAedes,
  startMosquitto,
  trackTempDir,
  until,
  type AedesBroker,
  type MosquittoBroker,
} from './support';
import { Fence, startApp, type StartedApp } from './fixtures/routing-helpers';

const DYNSEC_PLUGIN_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib',
  '/usr/local/lib',
  '/usr/lib64',
];

function dynsecPlugin(): string {
  for (const dir of DYNSEC_PLUGIN_DIRS) {
    const file = join(dir, 'mosquitto_dynamic_security.so');
    if (existsSync(file)) return file;
  }
  throw new Error(
    `mosquitto_dynamic_security.so not found in ${DYNSEC_PLUGIN_DIRS.join(', ')} ` +
      '(it ships with the mosquitto package since 2.0)',
  );
}

/** A dynamic-security config: anonymous clients may do anything but subscribe to secret/#. */
async function dynsecConfig(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nestjs-mqtt-dynsec-'));
  trackTempDir(dir);
  const file = join(dir, 'dynamic-security.json');
  const config = {
    defaultACLAccess: {
      publishClientSend: true,
      publishClientReceive: true,
      subscribe: true,
      unsubscribe: true,
    },
    clients: [],
    groups: [{ groupname: 'anonymous', roles: [{ rolename: 'no-secrets' }], clients: [] }],
    roles: [
      {
        rolename: 'no-secrets',
        acls: [{ acltype: 'subscribePattern', topic: 'secret/#', priority: 0, allow: false }],
      },
    ],
    anonymousGroup: 'anonymous',
  };
  await writeFile(file, JSON.stringify(config, null, 2), { mode: 0o644 });
  return file;
}

/** Records what every lifecycle hook receives. */
abstract class LifecycleHooks {
  readonly events: MqttEvent[] = [];
  readonly messages: string[] = [];

  @OnMqttConnect()
  onConnect(event: MqttEvent): void {
    this.events.push(event);
  }

  @OnMqttDisconnect()
  onDisconnect(event: MqttEvent): void {
    this.events.push(event);
  }

  @OnMqttEvent('reconnect')
  onReconnect(event: MqttEvent): void {
    this.events.push(event);
  }

  @OnMqttSubscribe()
  onSubscribe(event: MqttEvent): void {
    this.events.push(event);
  }

  @OnMqttLog()
  onLog(event: MqttEvent): void {
    this.events.push(event);
  }

  of<T extends MqttEvent['type']>(type: T): Array<Extract<MqttEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<MqttEvent, { type: T }> => e.type === type);
  }
}

/** Asks QoS 2 (downgraded by max_qos 1), a refused filter and a plain one. */
@Injectable()
class Lifecycle extends LifecycleHooks {
  @Subscribe('life/q2', { qos: 2 })
  @Subscribe('secret/x', { qos: 1 })
  @Subscribe('life/ok', { qos: 1 })
  onMessage(_payload: Buffer, topic: string): void {
    this.messages.push(topic);
  }
}

/** Asks QoS 2 only (downgraded by max_qos 1); nothing refused. */
@Injectable()
class DowngradeLifecycle extends LifecycleHooks {
  @Subscribe('life/q2', { qos: 2 })
  onMessage(_payload: Buffer, topic: string): void {
    this.messages.push(topic);
  }
}

/** Only filters the broker accepts as asked. */
@Injectable()
class QuietLifecycle extends LifecycleHooks {
  @Subscribe('life/ok', { qos: 1 })
  onMessage(_payload: Buffer, topic: string): void {
    this.messages.push(topic);
  }
}

/** The module's own log lines (context MqttModule) as "level message". */
const moduleLines = (app: StartedApp): string[] =>
  app.logger.lines.filter((l) => l.context === 'MqttModule').map((l) => `${l.level} ${l.message}`);

describeWithMosquitto('lifecycle hooks (section 9)', () => {
  let mosquitto: MosquittoBroker;
  let aedes: AedesBroker;
  let current: StartedApp | undefined;

  beforeAll(async () => {
    const dynsec = await dynsecConfig();
    [mosquitto, aedes] = await Promise.all([
      startMosquitto({
        extra: ['max_qos 1', `plugin ${dynsecPlugin()}`, `plugin_opt_config_file ${dynsec}`],
      }),
      startAedes({
        aedes: {
          authorizeSubscribe: (_client, sub, done) => {
            // A null subscription is a refusal (SUBACK 0x80); an error would drop the client.
            done(null, sub.topic.startsWith('secret/') ? null : sub);
          },
        },
      }),
    ]);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  afterAll(async () => {
    await Promise.all([mosquitto?.stop(), aedes?.stop()]);
  });

  describe.each([
    ['Mosquitto, MQTT 3.1.1', 'mosquitto', 4, 0x80, 1],
    ['Mosquitto, MQTT 5', 'mosquitto', 5, 0x87, 1],
    ['aedes, MQTT 3.1.1', 'aedes', 4, 0x80, 2],
  ] as const)('%s', (_label, brokerName, version, refusedCode, q2Granted) => {
    it('@OnMqttConnect, @OnMqttSubscribe (asked and granted QoS) and the downgrade / refusal log lines', async () => {
      current = await startApp({
        broker: brokerName === 'aedes' ? aedes : mosquitto,
        version,
        providers: [Fence, Lifecycle],
      });
      const life = current.get(Lifecycle);
      expect(life.of('connect')).toEqual([{ type: 'connect', sessionPresent: false }]);

      const subscribes = life.of('subscribe');
      expect(subscribes).toEqual(
        expect.arrayContaining([
          { type: 'subscribe', filter: 'life/q2', qos: 2, granted: q2Granted },
          { type: 'subscribe', filter: 'secret/x', qos: 1, granted: refusedCode },
          { type: 'subscribe', filter: 'life/ok', qos: 1, granted: 1 },
          { type: 'subscribe', filter: 'fence/+', qos: 0, granted: 0 },
        ]),
      );
      expect(subscribes).toHaveLength(4);

      // The bootstrap's "Subscribed X to ..." lines aside.
      const lines = moduleLines(current).filter((l) => !l.startsWith('log Subscribed '));
      const refusal = lines.filter((l) => l.includes('secret/x'));
      expect(refusal).toHaveLength(1);
      expect(refusal[0]).toMatch(/^(warn|error) /);
      expect(refusal[0]).toContain(`0x${refusedCode.toString(16)}`);
      const downgrade = lines.filter((l) => l.includes('life/q2'));
      if (q2Granted < 2) {
        expect(downgrade).toEqual(['warn The broker granted QoS 1 instead of 2 for "life/q2"']);
      } else {
        expect(downgrade).toEqual([]);
      }
      expect(lines.filter((l) => l.includes('life/ok'))).toEqual([]);

      // The refused filter routes nothing; the others work.
      await current.mqtt.publish('life/ok', 'x', { qos: 1 });
      await current.mqtt.publish('secret/x', 'x', { qos: 1 });
      await current.fence();
      expect(life.messages).toEqual(['life/ok']);
    });
  });

  it.each([4, 5] as const)(
    'Mosquitto max_qos 1: @OnMqttSubscribe gets asked 2 / granted 1 and a warning is logged (MQTT v%s)',
    async (version) => {
      current = await startApp({ broker: mosquitto, version, providers: [DowngradeLifecycle] });
      const life = current.get(DowngradeLifecycle);
      expect(life.of('subscribe')).toEqual([
        { type: 'subscribe', filter: 'life/q2', qos: 2, granted: 1 },
      ]);
      expect(current.logger.at('warn').map((l) => l.message)).toEqual([
        'The broker granted QoS 1 instead of 2 for "life/q2"',
      ]);
      expect(current.logger.at('error')).toEqual([]);
    },
  );

  it('@OnMqttLog receives every line the module logs, with its level', async () => {
    current = await startApp({ broker: mosquitto, providers: [Fence, Lifecycle] });
    const life = current.get(Lifecycle);
    const logged = life.of('log').map((e) => `${e.level} ${e.message}`);
    expect(logged).toEqual(
      expect.arrayContaining([
        `log Connecting to mqtt://127.0.0.1:${mosquitto.port} as client id "${current.clientId}"`,
        `log Connected to mqtt://127.0.0.1:${mosquitto.port}`,
        'warn The broker granted QoS 1 instead of 2 for "life/q2"',
        expect.stringMatching(/^(warn|error) .*secret\/x.*0x80/),
      ]),
    );
    // Exactly the lines the Nest logger got from the module, in the same order.
    expect(logged).toEqual(moduleLines(current));
  });

  it('@OnMqttDisconnect, @OnMqttEvent("reconnect") and @OnMqttConnect again when the broker comes back', async () => {
    current = await startApp({
      broker: mosquitto,
      providers: [Fence, QuietLifecycle],
      options: { MQTT_RECONNECT_PERIOD: 1 },
    });
    const life = current.get(QuietLifecycle);
    expect(life.of('connect')).toHaveLength(1);

    await mosquitto.stop();
    await until('the disconnect hook', () => life.of('offline').length > 0);
    await until('a reconnect attempt', () => life.of('reconnect').length > 0, 5000);
    expect(life.of('reconnect')[0]).toEqual({ type: 'reconnect', attempt: 1 });
    expect(life.of('offline')).toEqual([{ type: 'offline' }]);
    expect(moduleLines(current)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^warn Connection to .* lost/)]),
    );

    await mosquitto.restart();
    await until('the second connect', () => life.of('connect').length === 2, 10_000);
    expect(life.of('connect')[1]).toEqual({ type: 'connect', sessionPresent: false });
    // The subscriptions were made again on the new connection.
    await until(
      'the resubscription',
      () => life.of('subscribe').filter((e) => e.filter === 'life/ok').length === 2,
    );
    await current.mqtt.publish('life/ok', 'again', { qos: 1 });
    await current.fence();
    expect(life.messages).toEqual(['life/ok']);
    const attempts = life.of('reconnect').map((e) => e.attempt);
    expect(attempts).toEqual(attempts.map((_, i) => i + 1));
  }, 20_000);
});

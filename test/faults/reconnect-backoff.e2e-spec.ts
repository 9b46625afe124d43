/**
 * Fault: the broker refuses the app's credentials (Mosquitto with a password file) while
 * MQTT_CONNECT_IN_BACKGROUND=true. The client must keep retrying, for a refusal as for any other
 * cause, with exponential backoff capped by MQTT_RECONNECT_MAX_PERIOD (the attempts are timed
 * where they happen: at a TCP proxy in front of the broker), say so in status(), log one line
 * per state change instead of one per attempt, and queue QoS 1 publishes meanwhile up to
 * MQTT_OFFLINE_QUEUE_LIMIT: the one past the limit rejects, the queued ones go out once the
 * credentials are accepted.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MqttPublishError, type MqttModuleOptions } from 'nestjs-mqtt';

import {
  closeApp,
  closeClient,
  collectMessages,
  connectClient,
  delay,
  describeWithMosquitto,
  findExecutable,
  startMosquitto,
  startMqttApp,
  startTcpProxy,
  waitForState,
  type MosquittoBroker,
  type MqttTestApp,
  type TcpProxy,
} from '../support';
import type { MqttClient } from 'mqtt';
import { guardUnhandledRejections } from './support/checks';
import { logFigures } from './support/tally';

const BASE_S = 1;
const CAP_S = 8;
const QUEUE_LIMIT = 5;
/** How long the refusals are watched: enough for 4 attempts even at the top of each jitter. */
const WINDOW_MS = 16_000;
/** A fixed 1 s retry would make ~16 attempts in the window; backoff makes ~6 on average. */
const MAX_ATTEMPTS = 11;
const PASSWORD = 'app-password-right';
const WRONG = 'app-password-wrong';

/** 'pending' when `promise` has not settled within `ms`, else how it settled. */
async function settledWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<'pending' | { resolved: unknown } | { rejected: unknown }> {
  const outcome = promise.then(
    (resolved) => ({ resolved }),
    (rejected: unknown) => ({ rejected }),
  );
  return Promise.race([outcome, delay(ms).then(() => 'pending' as const)]);
}

describeWithMosquitto('fault: refused credentials, reconnect backoff and the offline queue', () => {
  const unhandled = guardUnhandledRejections();
  let broker: MosquittoBroker | undefined;
  let proxy: TcpProxy | undefined;
  let started: MqttTestApp | undefined;
  let watcher: MqttClient | undefined;

  afterAll(async () => {
    unhandled.stop();
    if (watcher) await closeClient(watcher);
    if (started) await closeApp(started.app);
    await proxy?.close();
    await broker?.stop();
  });

  it('keeps retrying with capped exponential backoff, logs state changes only, and bounds the offline queue', async () => {
    broker = await startMosquitto({ users: { app: PASSWORD, watcher: 'watcher-password' } });
    proxy = await startTcpProxy(broker.port);
    watcher = await connectClient(broker.url, {
      username: 'watcher',
      password: 'watcher-password',
    });
    const queued = await collectMessages(watcher, 'backoff/queued', { qos: 1 });
    const options: MqttModuleOptions = {
      MQTT_USERNAME: 'app',
      MQTT_PASSWORD: WRONG,
      MQTT_CONNECT_IN_BACKGROUND: true,
      MQTT_RECONNECT_PERIOD: BASE_S,
      MQTT_RECONNECT_MAX_PERIOD: CAP_S,
      MQTT_OFFLINE_QUEUE_LIMIT: QUEUE_LIMIT,
    };
    const startAt = Date.now();
    started = await startMqttApp({ broker: { port: proxy.port }, options });
    const { mqtt, logger } = started;

    const publishes = Array.from({ length: QUEUE_LIMIT }, (_, i) =>
      mqtt.publish('backoff/queued', `queued ${i}`, { qos: 1 }),
    );
    const pastLimit = await settledWithin(
      mqtt.publish('backoff/queued', 'past the limit', { qos: 1 }),
      2000,
    );
    const whileOffline = await Promise.all(publishes.map((p) => settledWithin(p, 0)));

    await delay(WINDOW_MS - (Date.now() - startAt));
    const attempts = proxy.accepted.map((t) => t - startAt);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
    const lines = logger.lines.filter(
      (l) => l.context === 'MqttModule' && (l.level === 'warn' || l.level === 'error'),
    );
    logFigures('refused credentials, backoff', {
      attempts: attempts.length,
      gapsMs: gaps,
      logLines: lines.length,
      pastLimit:
        pastLimit === 'pending' ? 'pending' : 'rejected' in pastLimit ? 'rejected' : 'resolved',
    });

    // Retries go on after a refusal, fewer than a fixed period would make, with gaps that grow
    // at most exponentially from MQTT_RECONNECT_PERIOD and never beyond the cap (+1 s slack).
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    expect(attempts.length).toBeLessThanOrEqual(MAX_ATTEMPTS);
    // Growing: with the module's jitter (half to all of the ceiling) the third gap is at least
    // 2 s and the first at most 1 s.
    expect(Math.max(...gaps.slice(2))).toBeGreaterThanOrEqual(1.5 * gaps[0]);
    gaps.forEach((gap, i) => {
      expect(gap).toBeLessThanOrEqual(Math.min(CAP_S, BASE_S * 2 ** (i + 1)) * 1000 + 1000);
    });
    const status = mqtt.status();
    expect(status.state).not.toBe('connected');
    expect(status.reconnectAttempts).toBeGreaterThanOrEqual(attempts.length - 1);
    expect(status.lastError).toBeDefined();
    // One line per state change, not one per attempt; the password is never printed.
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(lines.length).toBeLessThan(attempts.length);
    expect(logger.lines.filter((l) => l.inspected.includes(WRONG))).toEqual([]);
    // QoS 1 publishes wait while offline, up to the limit; the one past it rejects.
    expect(whileOffline).toEqual(Array(QUEUE_LIMIT).fill('pending'));
    expect(pastLimit).toEqual({ rejected: expect.any(MqttPublishError) });

    // The broker now accepts that password (password file changed, reloaded on SIGHUP): the
    // next attempt connects and the queued publishes go out.
    const passwd = findExecutable('mosquitto_passwd')!;
    await promisify(execFile)(passwd, ['-b', join(broker.dir, 'passwd'), 'app', WRONG]);
    await broker.kill('SIGHUP');
    await waitForState(mqtt, 'connected', (CAP_S + 5) * 1000);
    await Promise.all(publishes);
    const messages = await queued.waitFor(QUEUE_LIMIT, 5000);
    expect(messages.map((m) => m.payload.toString()).sort()).toEqual(
      Array.from({ length: QUEUE_LIMIT }, (_, i) => `queued ${i}`),
    );
    expect(mqtt.status().state).toBe('connected');
    unhandled.check();
  }, 60_000);
});

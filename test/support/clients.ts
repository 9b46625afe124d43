import { spawn, type ChildProcess } from 'node:child_process';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';

import {
  connectAsync,
  type IClientOptions,
  type IClientSubscribeOptions,
  type IPublishPacket,
  type MqttClient,
} from 'mqtt';

import { randomClientId } from './ids';
import { findExecutable } from './mosquitto';
import { terminate, trackChild } from './processes';

/** A message received by {@link nextMessage} / {@link collectMessages}. */
export interface ReceivedMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly packet: IPublishPacket;
}

/**
 * MQTT.js client options plus the `tls.connect` options MQTT.js passes through untyped (e.g.
 * `maxVersion: 'TLSv1.2'` to act as an old client).
 */
export type ClientOptions = IClientOptions &
  Pick<TlsConnectionOptions, 'minVersion' | 'maxVersion' | 'ciphers' | 'checkServerIdentity'>;

/**
 * Connects with MQTT.js `connectAsync` and resolves on CONNACK. Defaults: `reconnectPeriod: 0`
 * (a refused or failed connect rejects instead of retrying; MQTT.js refusals carry `code`, e.g.
 * 5 / 4 for MQTT 3.1.1 or 135 / 134 for MQTT 5), `connectTimeout: 5000`, a random `clientId`.
 * With `reconnectPeriod: 0`, losing the socket before CONNACK also rejects.
 */
export async function connectClient(url: string, opts: ClientOptions = {}): Promise<MqttClient> {
  const options: ClientOptions = {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clientId: randomClientId(),
    ...opts,
  };
  return connectAsync(url, options, options.reconnectPeriod !== 0);
}

/**
 * Ends the client: a graceful `endAsync()` (DISCONNECT sent, so no will message) bounded by
 * `timeoutMs`, then a forced end and a destroyed socket if it did not finish. Never rejects.
 */
export async function closeClient(client: MqttClient, timeoutMs = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([client.endAsync().catch(() => 'error' as const), timedOut]);
  clearTimeout(timer);
  if (result === 'timeout' || result === 'error') {
    client.end(true);
    client.stream?.destroy();
  }
}

/**
 * MQTT topic-filter matching (`+` one level, `#` the rest, `$`-topics only matched by filters
 * that spell out their first level; a leading `$share/<group>/` is ignored).
 */
export function topicMatches(filter: string, topic: string): boolean {
  const shared = /^\$share\/[^/]+\/(.*)$/.exec(filter);
  const f = (shared ? shared[1] : filter).split('/');
  const t = topic.split('/');
  if (t[0].startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

async function subscribeChecked(
  client: MqttClient,
  filter: string,
  opts: IClientSubscribeOptions,
): Promise<void> {
  const granted = await client.subscribeAsync(filter, opts);
  const refused = granted.find((grant) => grant.qos >= 0x80);
  if (refused) {
    throw new Error(`Subscription to "${filter}" was refused (SUBACK code ${refused.qos})`);
  }
}

/** Options of {@link nextMessage}. */
export interface NextMessageOptions {
  /** Milliseconds before rejecting; default 3000. */
  readonly timeout?: number;
  /** QoS of the subscription; default 0. */
  readonly qos?: 0 | 1 | 2;
  /** Set false to only listen, e.g. when the client already holds the subscription. */
  readonly subscribe?: boolean;
}

/**
 * Subscribes `client` to `topicFilter` (awaiting the SUBACK) and resolves with the first message
 * whose topic matches it; rejects after `timeout` ms with the filter and the non-matching topics
 * seen. The listener is attached before subscribing, so retained messages are not missed. The
 * subscription is left in place.
 */
export async function nextMessage(
  client: MqttClient,
  topicFilter: string,
  { timeout = 3000, qos = 0, subscribe = true }: NextMessageOptions = {},
): Promise<ReceivedMessage> {
  const others: string[] = [];
  let onMessage: ((topic: string, payload: Buffer, packet: IPublishPacket) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const received = new Promise<ReceivedMessage>((resolve, reject) => {
    onMessage = (topic, payload, packet) => {
      if (topicMatches(topicFilter, topic)) resolve({ topic, payload, packet });
      else others.push(topic);
    };
    client.on('message', onMessage);
    timer = setTimeout(() => {
      const seen = others.length ? ` (saw only: ${others.slice(0, 10).join(', ')})` : '';
      reject(
        new Error(`Timed out after ${timeout} ms waiting for a message on "${topicFilter}"${seen}`),
      );
    }, timeout);
  });
  try {
    if (subscribe) await subscribeChecked(client, topicFilter, { qos });
    return await received;
  } finally {
    clearTimeout(timer);
    if (onMessage) client.off('message', onMessage);
    received.catch(() => undefined);
  }
}

/** Accumulates the messages matching one filter; made by {@link collectMessages}. */
export interface MessageCollector {
  /** Every matching message so far, in arrival order (a live array). */
  readonly messages: ReceivedMessage[];
  /**
   * Resolves with the messages once at least `count` have arrived; rejects after `timeout` ms
   * (default 3000) saying how many did.
   */
  waitFor(count: number, timeout?: number): Promise<ReceivedMessage[]>;
  /** Stops listening (the subscription itself is left in place). */
  stop(): void;
}

/** Options of {@link collectMessages}. */
export interface CollectMessagesOptions {
  /** QoS of the subscription; default 0. */
  readonly qos?: 0 | 1 | 2;
  /** Set false to only listen, e.g. when the client already holds the subscription. */
  readonly subscribe?: boolean;
}

/**
 * Starts collecting the messages whose topic matches `filter`, and resolves once the
 * subscription is acknowledged (so anything published afterwards is caught).
 */
export async function collectMessages(
  client: MqttClient,
  filter: string,
  { qos = 0, subscribe = true }: CollectMessagesOptions = {},
): Promise<MessageCollector> {
  const messages: ReceivedMessage[] = [];
  const waiters = new Set<() => void>();
  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
    if (!topicMatches(filter, topic)) return;
    messages.push({ topic, payload, packet });
    for (const check of [...waiters]) check();
  };
  client.on('message', onMessage);
  const stop = (): void => {
    client.off('message', onMessage);
  };
  try {
    if (subscribe) await subscribeChecked(client, filter, { qos });
  } catch (err) {
    stop();
    throw err;
  }

  const waitFor = (count: number, timeout = 3000): Promise<ReceivedMessage[]> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (messages.length < count) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(messages.slice());
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `Timed out after ${timeout} ms waiting for ${count} message(s) on "${filter}"; ` +
              `got ${messages.length}`,
          ),
        );
      }, timeout);
      waiters.add(check);
      check();
    });

  return { messages, waitFor, stop };
}

function cliPath(name: 'mosquitto_sub' | 'mosquitto_pub'): string {
  const found = findExecutable(name);
  if (!found) {
    throw new Error(`${name} not found (install it with: apt-get install -y mosquitto-clients)`);
  }
  return found;
}

/** A running `mosquitto_sub`, made by {@link mosquittoSub}. */
export interface MosquittoSubProcess {
  /** The child process. */
  readonly proc: ChildProcess;
  /** Complete stdout lines so far (a live array); with `-d` debug lines are included. */
  readonly lines: string[];
  /** stderr so far. */
  readonly stderr: string;
  /** Resolves with the lines once at least `n` arrived; rejects after `timeout` ms (default 3000). */
  waitForLines(n: number, timeout?: number): Promise<string[]>;
  /**
   * Resolves with the first line matching `pattern` (e.g. `/^Subscribed/` with `-d`, to know the
   * subscription is active); rejects after `timeout` ms (default 3000).
   */
  waitForLine(pattern: RegExp, timeout?: number): Promise<string>;
  /** SIGTERM and wait for exit (SIGKILL after 3 s). */
  stop(): Promise<void>;
}

/**
 * Spawns `mosquitto_sub` with `args` (no shell; through `stdbuf -oL` when available so `-d`
 * lines arrive as printed), collecting stdout lines. The process is killed when the Node process
 * exits if not stopped before. When the subscription must be in place before publishing, pass
 * `-d` and `await waitForLine(/^Subscribed/)` (needs stdbuf, i.e. GNU coreutils).
 */
export function mosquittoSub(args: string[]): MosquittoSubProcess {
  // mosquitto_sub flushes stdout after each message but not after `-d` debug lines, so on a
  // pipe "Subscribed (mid: 1)" would only show up with the first message: line-buffer it.
  const stdbuf = findExecutable('stdbuf');
  const [command, commandArgs] = stdbuf
    ? [stdbuf, ['-oL', cliPath('mosquitto_sub'), ...args]]
    : [cliPath('mosquitto_sub'), args];
  const proc = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(proc);
  proc.on('error', () => undefined); // surfaced through exit / timeouts instead
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  proc.stdout?.setEncoding('utf8');
  proc.stdout?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.map((line) => line.replace(/\r$/, '')));
    for (const check of [...waiters]) check();
  });
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });

  const waitUntil = <T>(
    describe: string,
    timeout: number,
    probe: () => T | undefined,
  ): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const value = probe();
        if (value === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `Timed out after ${timeout} ms waiting for ${describe} from mosquitto_sub ` +
              `${args.join(' ')}; got ${lines.length} line(s): ${JSON.stringify(lines.slice(-5))}` +
              (stderr ? `; stderr: ${stderr.trim()}` : '') +
              (proc.exitCode !== null ? `; exited with code ${proc.exitCode}` : ''),
          ),
        );
      }, timeout);
      waiters.add(check);
      check();
    });

  return {
    proc,
    lines,
    get stderr() {
      return stderr;
    },
    waitForLines: (n, timeout = 3000) =>
      waitUntil(`${n} line(s)`, timeout, () => (lines.length >= n ? lines.slice() : undefined)),
    waitForLine: (pattern, timeout = 3000) =>
      waitUntil(`a line matching ${pattern}`, timeout, () => lines.find((l) => pattern.test(l))),
    stop: () => terminate(proc),
  };
}

/**
 * Runs `mosquitto_pub` with `args` (no shell) and resolves when it exits with code 0; rejects
 * with its stderr otherwise, or after `timeout` ms (default 5000, the process is then killed).
 */
export async function mosquittoPub(args: string[], timeout = 5000): Promise<void> {
  const proc = spawn(cliPath('mosquitto_pub'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  trackChild(proc);
  let output = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    output += chunk;
  });
  type Outcome = { code: number | null; signal: NodeJS.Signals | null } | Error | 'timeout';
  const outcome = await new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeout);
    proc.once('error', (err) => {
      clearTimeout(timer);
      resolve(err);
    });
    // 'close' (not 'exit') so that stderr has been read completely.
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  const command = `mosquitto_pub ${args.join(' ')}`;
  if (outcome instanceof Error) {
    throw new Error(`${command} could not be spawned: ${outcome.message}`);
  }
  if (outcome === 'timeout') {
    await terminate(proc, 'SIGKILL');
    throw new Error(`${command} did not exit within ${timeout} ms: ${output.trim()}`);
  }
  if (outcome.code !== 0) {
    throw new Error(
      `${command} failed (code ${outcome.code}, signal ${outcome.signal}): ${output.trim()}`,
    );
  }
}

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';

import type { TestCerts } from './certs';
import { freePort } from './ports';
import { isRunning, terminate, trackChild, trackTempDir, waitForExit } from './processes';

const execFileAsync = promisify(execFile);

const START_TIMEOUT_MS = 5000;
const KILL_AFTER_MS = 3000;
const OUTPUT_LIMIT = 64 * 1024;
/** Signals mosquitto handles without exiting (reload config, write persistence, tree dump). */
const NON_FATAL_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGHUP', 'SIGUSR1', 'SIGUSR2']);
/** Where the binaries may live besides PATH (Debian puts the broker in /usr/sbin). */
const EXTRA_BIN_DIRS = ['/usr/sbin', '/usr/local/sbin'];

/**
 * Absolute path of the named executable (`mosquitto`, `mosquitto_pub`, `mosquitto_sub`,
 * `mosquitto_passwd`, ...) found on PATH or in /usr/sbin, /usr/local/sbin; undefined if absent.
 */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_BIN_DIRS];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

function requireExecutable(name: string): string {
  const found = findExecutable(name);
  if (!found) {
    throw new Error(
      `${name} not found on PATH or in ${EXTRA_BIN_DIRS.join(', ')} ` +
        '(install it with: apt-get install -y mosquitto mosquitto-clients)',
    );
  }
  return found;
}

/** True when the `mosquitto` broker binary is found on PATH or in /usr/sbin. */
export function mosquittoAvailable(): boolean {
  return findExecutable('mosquitto') !== undefined;
}

/**
 * Like `describe`, for suites that need a real mosquitto. When the binary is missing and
 * `CI=true`, it registers a single failing test (a CI job must not silently skip broker tests);
 * otherwise the suite is registered with `describe.skip` and one console.warn line says why.
 */
export function describeWithMosquitto(name: string, fn: () => void): void {
  if (mosquittoAvailable()) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('requires mosquitto', () => {
        throw new Error(
          `mosquitto is required under CI (CI=true) but was not found on PATH or in ` +
            `${EXTRA_BIN_DIRS.join(', ')}; install it with: apt-get install -y mosquitto`,
        );
      });
    });
    return;
  }
  console.warn(
    `Skipping "${name}": the mosquitto binary was not found on PATH or in ` +
      `${EXTRA_BIN_DIRS.join(', ')} (install it with: apt-get install -y mosquitto).`,
  );
  describe.skip(name, fn);
}

/** TLS listener settings for {@link startMosquitto}. */
export interface MosquittoTlsOptions {
  /** Files from `generateTestCerts()`. */
  readonly certs: TestCerts;
  /** Require and verify a client certificate signed by the good CA (`require_certificate`). */
  readonly requireClientCert?: boolean;
  /**
   * `tls_version`: for a mosquitto 2.0 listener this is the MINIMUM version accepted, so
   * `tlsv1.2` still negotiates TLS 1.3 with a modern client; `tlsv1.3` refuses TLS 1.2 clients.
   */
  readonly tlsVersion?: 'tlsv1.2' | 'tlsv1.3';
  /**
   * Which server certificate the TLS listener presents: `good` (localhost, good CA; default),
   * `wrongCa` (localhost, wrong CA) or `otherHost` (not-this-host.example, good CA).
   */
  readonly serverCert?: 'good' | 'wrongCa' | 'otherHost';
}

/** Options of {@link startMosquitto}. */
export interface MosquittoOptions {
  /** `allow_anonymous`; default true, but false when `users` is given and this is not set. */
  readonly allowAnonymous?: boolean;
  /** User name to password; written to a password file with `mosquitto_passwd -b`. */
  readonly users?: Readonly<Record<string, string>>;
  /** Adds a second listener with TLS on `tlsPort`. */
  readonly tls?: MosquittoTlsOptions;
  /** Enables `persistence` with the database in the broker's temp dir (kept across restart()). */
  readonly persistence?: boolean;
  /**
   * Raw config lines appended at the end. Listener-scoped options land on the last listener
   * (the TLS one when `tls` is set).
   */
  readonly extra?: readonly string[];
  /** `max_inflight_messages`: QoS 1/2 messages in flight per client. */
  readonly maxInflight?: number;
}

/** A mosquitto child process started by {@link startMosquitto}. */
export interface MosquittoBroker {
  /** Always 127.0.0.1: listeners bind to loopback only. */
  readonly host: '127.0.0.1';
  /** Plain MQTT listener port. */
  readonly port: number;
  /** TLS listener port, when `tls` was given. */
  readonly tlsPort?: number;
  /** PID of the current mosquitto process (changes on restart()). */
  readonly pid: number;
  /** `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
  /** `mqtts://127.0.0.1:TLSPORT` (the test server certificate covers IP 127.0.0.1 and localhost). */
  readonly tlsUrl?: string;
  /** The temp directory with the config, log, password file and persistence database. */
  readonly dir: string;
  /** The generated mosquitto.conf. */
  readonly configFile: string;
  /** The broker log (`log_type all`); it is appended to across restarts. */
  readonly logFile: string;
  /** True while the process is alive. */
  readonly running: boolean;
  /** SIGTERM, wait for exit, SIGKILL after 3 s. Safe to call twice or after kill(). */
  stop(): Promise<void>;
  /**
   * Sends `signal` (default SIGKILL, i.e. a crash) and waits for the exit (SIGKILL after 3 s).
   * SIGHUP / SIGUSR1 / SIGUSR2 do not stop mosquitto, so for those it resolves once sent.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** stop() (if running), then start again on the SAME ports with the same config. */
  restart(): Promise<void>;
  /** The log file contents so far ('' if not written yet). */
  readLog(): string;
}

/** Brokers not yet stopped, for {@link stopAllMosquittos}. The exit hook lives in processes.ts. */
const liveBrokers = new Set<MosquittoProcess>();

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function probePort(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(250, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class MosquittoProcess implements MosquittoBroker {
  readonly host = '127.0.0.1' as const;
  readonly configFile: string;
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    readonly dir: string,
    private readonly binary: string,
    readonly port: number,
    readonly tlsPort: number | undefined,
  ) {
    this.configFile = join(dir, 'mosquitto.conf');
    this.logFile = join(dir, 'mosquitto.log');
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get tlsUrl(): string | undefined {
    return this.tlsPort === undefined ? undefined : `mqtts://127.0.0.1:${this.tlsPort}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get running(): boolean {
    return this.child !== undefined && isRunning(this.child);
  }

  readLog(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Spawns mosquitto and waits until every listener accepts TCP connections. */
  async launch(): Promise<void> {
    this.output = '';
    const child = spawn(this.binary, ['-c', this.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    trackChild(child);
    liveBrokers.add(this);
    const capture = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

    const ports = this.tlsPort === undefined ? [this.port] : [this.port, this.tlsPort];
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (!isRunning(child)) {
        const err = await Promise.race([spawnError, sleep(0).then(() => undefined)]);
        throw this.startError(
          err ? `could not be spawned: ${err.message}` : `exited early (code ${child.exitCode})`,
        );
      }
      const open = await Promise.all(ports.map(probePort));
      if (open.every(Boolean)) return;
      if (Date.now() > deadline) {
        await terminate(child, 'SIGKILL');
        throw this.startError(`did not accept TCP connections within ${START_TIMEOUT_MS} ms`);
      }
      await sleep(25);
    }
  }

  /** True when the last failed start was a port clash (the port was taken after freePort()). */
  failedOnAddressInUse(): boolean {
    return /address already in use/i.test(this.output + this.readLog());
  }

  private startError(reason: string): Error {
    const ports = this.tlsPort === undefined ? `${this.port}` : `${this.port}+${this.tlsPort}`;
    return new Error(
      `mosquitto (ports ${ports}, config ${this.configFile}) ${reason}\n` +
        `--- stdout/stderr ---\n${tail(this.output, 20) || '(empty)'}\n` +
        `--- log tail (${this.logFile}) ---\n${tail(this.readLog(), 30) || '(empty)'}`,
    );
  }

  async stop(): Promise<void> {
    if (this.child) await terminate(this.child, 'SIGTERM', KILL_AFTER_MS);
    liveBrokers.delete(this);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !isRunning(child)) return;
    if (NON_FATAL_SIGNALS.has(signal)) {
      child.kill(signal);
      return;
    }
    child.kill(signal);
    if (!(await waitForExit(child, KILL_AFTER_MS))) {
      await terminate(child, 'SIGKILL', KILL_AFTER_MS);
    }
    liveBrokers.delete(this);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}

function buildConfig(
  dir: string,
  port: number,
  tlsPort: number | undefined,
  options: MosquittoOptions,
  passwordFile: string | undefined,
): string {
  const users = options.users ?? {};
  const allowAnonymous = options.allowAnonymous ?? Object.keys(users).length === 0;
  const lines = ['# generated by test/support/mosquitto.ts'];
  // As root, mosquitto switches to user `mosquitto` right after reading the config and then
  // fails to open a log file in a root-owned temp dir. `user root` keeps it root (it only
  // logs a warning); when not root the option is ignored and it runs as the current user.
  if (process.getuid?.() === 0) lines.push('user root');
  lines.push(
    'per_listener_settings false',
    `allow_anonymous ${allowAnonymous}`,
    `log_dest file ${join(dir, 'mosquitto.log')}`,
    'log_type all',
    'log_timestamp true',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
    'connection_messages true',
  );
  if (passwordFile) lines.push(`password_file ${passwordFile}`);
  if (options.persistence) {
    lines.push('persistence true', `persistence_location ${dir}/`, 'persistence_file mosquitto.db');
  }
  if (options.maxInflight !== undefined) {
    lines.push(`max_inflight_messages ${options.maxInflight}`);
  }
  lines.push('', `listener ${port} 127.0.0.1`);
  if (options.tls && tlsPort !== undefined) {
    const { certs, requireClientCert, tlsVersion, serverCert = 'good' } = options.tls;
    const [cert, key] =
      serverCert === 'wrongCa'
        ? [certs.wrongServerCert, certs.wrongServerKey]
        : serverCert === 'otherHost'
          ? [certs.otherHostCert, certs.otherHostKey]
          : [certs.serverCert, certs.serverKey];
    lines.push(
      '',
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${certs.caCert}`,
      `certfile ${cert}`,
      `keyfile ${key}`,
      `require_certificate ${requireClientCert ? 'true' : 'false'}`,
    );
    if (tlsVersion) lines.push(`tls_version ${tlsVersion}`);
  }
  if (options.extra?.length) lines.push('', ...options.extra);
  return `${lines.join('\n')}\n`;
}

async function writePasswordFile(
  dir: string,
  users: Readonly<Record<string, string>>,
): Promise<string | undefined> {
  const entries = Object.entries(users);
  if (entries.length === 0) return undefined;
  const tool = requireExecutable('mosquitto_passwd');
  const file = join(dir, 'passwd');
  for (const [index, [user, password]] of entries.entries()) {
    const args = index === 0 ? ['-b', '-c', file, user, password] : ['-b', file, user, password];
    await execFileAsync(tool, args, { timeout: 10_000 });
  }
  await chmod(file, 0o644);
  return file;
}

/**
 * Starts a private mosquitto (`mosquitto -c <temp conf>`, as a child, not daemonised) on free
 * loopback ports, with `log_type all` to a log file in its temp dir, and resolves once every
 * listener accepts TCP connections (5 s timeout; the error carries the log tail). If a port was
 * grabbed between choosing and binding it, it retries on new ports. Call `stop()` in afterAll;
 * as a safety net every broker is SIGKILLed when the Node process exits.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const binary = requireExecutable('mosquitto');
  const dir = await mkdtemp(join(tmpdir(), 'nestjs-mqtt-mosquitto-'));
  trackTempDir(dir);
  await chmod(dir, 0o755);
  const passwordFile = await writePasswordFile(dir, options.users ?? {});

  const attempts = 3;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let tlsPort: number | undefined;
    if (options.tls) {
      do tlsPort = await freePort();
      while (tlsPort === port);
    }
    const broker = new MosquittoProcess(dir, binary, port, tlsPort);
    await writeFile(broker.logFile, '', { mode: 0o644 }); // fresh log for each attempt
    await writeFile(broker.configFile, buildConfig(dir, port, tlsPort, options, passwordFile), {
      mode: 0o644,
    });
    try {
      await broker.launch();
      return broker;
    } catch (err) {
      await broker.stop();
      if (attempt >= attempts || !broker.failedOnAddressInUse()) throw err;
    }
  }
}

/** Stops every broker started by this module that has not been stopped yet. */
export async function stopAllMosquittos(): Promise<void> {
  await Promise.all([...liveBrokers].map((broker) => broker.stop()));
}

/**
 * The demo app (apps/demo) run for real, as a child process from its TypeScript source: with its
 * embedded aedes broker, and against a private Mosquitto over MQTT 5 (configured through a .env
 * file in its working directory).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  closeClient,
  collectMessages,
  connectClient,
  describeWithMosquitto,
  freePort,
  nextMessage,
  spawnTypeScript,
  startMosquitto,
  terminate,
  trackTempDir,
  uid,
  waitForExit,
  type MosquittoBroker,
} from './support';

/** The demo's entry point, relative to the repository root. */
const MAIN = 'apps/demo/src/main.ts';

/** A demo process and what it printed so far. */
interface DemoRun {
  readonly proc: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the first match of `pattern` in stdout + stderr; rejects after `timeout` ms. */
  waitForOutput(pattern: RegExp, timeout?: number): Promise<RegExpMatchArray>;
}

/**
 * Starts `node -r register-ts apps/demo/src/main.ts` in `cwd` (a fresh temp dir, so no stray
 * .env is read) with the parent's environment minus every MQTT_* and DEMO_* variable, plus `env`.
 */
function runDemo(env: Record<string, string>, cwd = tempDir()): DemoRun {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(MQTT|DEMO)_/.test(k)),
  );
  const proc = spawnTypeScript(MAIN, { cwd, env: { ...base, NO_COLOR: '1', ...env } });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const onData = (): void => {
    for (const check of [...waiters]) check();
  };
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    onData();
  });
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    onData();
  });
  const waitForOutput = (pattern: RegExp, timeout = 15_000): Promise<RegExpMatchArray> =>
    new Promise((resolvePromise, reject) => {
      const check = (): void => {
        const match = (out + err).match(pattern);
        if (!match) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolvePromise(match);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `Timed out after ${timeout} ms waiting for ${String(pattern)} in the demo output:\n` +
              `--- stdout ---\n${out}\n--- stderr ---\n${err}`,
          ),
        );
      }, timeout);
      waiters.add(check);
      check();
    });
  return { proc, stdout: () => out, stderr: () => err, waitForOutput };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-mqtt-demo-'));
  trackTempDir(dir);
  return dir;
}

/** Waits (bounded) for the demo to exit by itself and returns how it ended. */
async function exitOf(run: DemoRun, timeout = 20_000): Promise<{ code: number | null }> {
  const exited = await waitForExit(run.proc, timeout);
  if (!exited) {
    await terminate(run.proc);
    throw new Error(
      `The demo did not exit within ${timeout} ms of DEMO_RUN_SECONDS:\n--- stdout ---\n` +
        `${run.stdout()}\n--- stderr ---\n${run.stderr()}`,
    );
  }
  expect(run.proc.signalCode).toBeNull();
  return { code: run.proc.exitCode };
}

/** Lines of a Nest log stream logged by `context` (e.g. 'AlertLogHandler'). */
function linesOf(text: string, context: string): string[] {
  return text.split('\n').filter((line) => line.includes(`[${context}]`));
}

/** The stats the demo replies with on demo/stats/get. */
interface StatsReply {
  readonly readings: number;
  readonly alerts: number;
  readonly devices: Record<string, { readonly readings: number; readonly alerts: number }>;
}

const STACK_LINE = /^\s+at .+\(.*:\d+:\d+\)$/m;

describe('demo app with its embedded broker (no broker configured)', () => {
  const running: DemoRun[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((run) => terminate(run.proc)));
  });

  it('starts aedes on DEMO_BROKER_PORT, publishes telemetry and alerts, and exits 0 after DEMO_RUN_SECONDS', async () => {
    const port = await freePort();
    const demo = runDemo({
      DEMO_BROKER_PORT: String(port),
      DEMO_ALERT_CELSIUS: '-100',
      DEMO_RUN_SECONDS: '4',
    });
    running.push(demo);
    await demo.waitForOutput(
      new RegExp(
        `\\[EmbeddedBroker\\] Embedded aedes broker \\(MQTT 3\\.1\\.1\\) listening on mqtt://127\\.0\\.0\\.1:${port}\\b`,
      ),
    );

    const client = await connectClient(`mqtt://127.0.0.1:${port}`);
    try {
      const sensors = await collectMessages(client, 'sensors/+/temp', { qos: 1 });
      const alerts = await collectMessages(client, 'alerts/#', { qos: 1 });
      // Three devices, one reading each per second: two seconds' worth, and some of their alerts.
      const readings = await sensors.waitFor(6, 10_000);
      await alerts.waitFor(3, 10_000);

      const devices = new Set(readings.map((m) => m.topic.split('/')[1]));
      expect([...devices].sort()).toEqual(['boiler-1', 'freezer-3', 'greenhouse-2']);
      for (const { payload, packet } of readings) {
        expect(packet.qos).toBe(1);
        const body = JSON.parse(payload.toString()) as { celsius: unknown; at: string };
        expect(Object.keys(body).sort()).toEqual(['at', 'celsius']);
        expect(new Date(body.at).toISOString()).toBe(body.at);
        if (typeof body.celsius !== 'number') expect(body.celsius).toBe('hot'); // the broken one
      }
      for (const { topic, payload, packet } of alerts.messages) {
        expect(packet.qos).toBe(1);
        const alert = JSON.parse(payload.toString()) as Record<string, unknown>;
        expect(topic).toBe(`alerts/${String(alert.deviceId)}`);
        expect(alert).toEqual({
          deviceId: expect.stringMatching(/^(boiler-1|greenhouse-2|freezer-3)$/),
          celsius: expect.any(Number),
          thresholdCelsius: -100,
          at: expect.any(String),
        });
      }
    } finally {
      await closeClient(client);
    }

    const { code } = await exitOf(demo);
    const stdout = demo.stdout();
    const stderr = demo.stderr();
    expect(code).toBe(0);

    // The app connected to the embedded broker, and said how to watch it.
    expect(stdout).toContain(`[MqttModule] Connected to mqtt://127.0.0.1:${port}`);
    expect(stdout).toMatch(/\[ConnectionListener\] Connected as "nestjs-mqtt-[0-9a-f]+"/);
    expect(stdout).toContain(`mosquitto_sub -h 127.0.0.1 -p ${port} -t '#' -v`);
    // Every alert reached the alerts/# handler, with what the alert said.
    expect(linesOf(stdout, 'AlertLogHandler').length).toBeGreaterThanOrEqual(3);
    expect(stdout).toMatch(
      /\[AlertLogHandler\] alerts\/(boiler-1|greenhouse-2|freezer-3): -?\d+(\.\d)? °C at \S+Z is above the -100 °C threshold/,
    );
    // The broken reading was rejected by validation and logged in one line; the app went on.
    expect(stdout).toContain('[DeviceSimulator] greenhouse-2 sends a broken reading');
    expect(stderr).toMatch(
      /\[MqttModule\] Handler TelemetryHandler\.onTemperature failed for topic "sensors\/greenhouse-2\/temp": invalid payload: .*celsius must be a number/,
    );
    // A clean stop: the MQTT client left before the embedded broker closed, and nothing crashed.
    expect(stdout).toContain('[Demo] DEMO_RUN_SECONDS=4 elapsed, shutting down');
    const disconnected = stdout.search(
      /\[EmbeddedBroker\] Client "nestjs-mqtt-[0-9a-f]+" disconnected/,
    );
    const closed = stdout.indexOf('[EmbeddedBroker] Embedded broker closed');
    expect(disconnected).toBeGreaterThan(-1);
    expect(closed).toBeGreaterThan(disconnected);
    expect(stdout.indexOf('[Demo] Stopped')).toBeGreaterThan(closed);
    expect(stderr).not.toMatch(STACK_LINE);
  }, 30_000);

  it('falls back to a free port, and says so, when DEMO_BROKER_PORT is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const demo = runDemo({ DEMO_BROKER_PORT: String(taken), DEMO_RUN_SECONDS: '1' });
      running.push(demo);
      const [, fallback] = await demo.waitForOutput(
        new RegExp(
          `\\[EmbeddedBroker\\] Port ${taken} on 127\\.0\\.0\\.1 is already in use .*listens on the free port (\\d+) instead`,
        ),
      );
      expect(Number(fallback)).not.toBe(taken);
      const { code } = await exitOf(demo);
      expect(code).toBe(0);
      expect(demo.stdout()).toContain(`[MqttModule] Connected to mqtt://127.0.0.1:${fallback}`);
      expect(demo.stderr()).toBe('');
    } finally {
      await new Promise<void>((done) => blocker.close(() => done()));
    }
  }, 30_000);

  it('refuses MQTT_PROTOCOL_VERSION=MQTTv5 without a broker, saying what to do, exit code 1', async () => {
    const demo = runDemo({
      MQTT_PROTOCOL_VERSION: 'MQTTv5',
      DEMO_BROKER_PORT: String(await freePort()),
    });
    running.push(demo);
    const { code } = await exitOf(demo);
    expect(code).toBe(1);
    expect(demo.stderr()).toContain(
      'The embedded aedes broker speaks MQTT 3.1.1 only. For MQTT_PROTOCOL_VERSION=MQTTv5, point MQTT_BROKER_URL and MQTT_BROKER_PORT at an MQTT 5 broker',
    );
    expect(demo.stdout()).not.toContain('listening on mqtt://');
    expect(demo.stderr()).not.toMatch(STACK_LINE);
  }, 30_000);
});

describeWithMosquitto('demo app against Mosquitto (MQTT 5, broker from a .env file)', () => {
  let mosquitto: MosquittoBroker;
  let demo: DemoRun | undefined;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
  });
  afterAll(async () => {
    if (demo) await terminate(demo.proc);
    await mosquitto?.stop();
  });

  it('uses the configured broker, answers MQTT 5 requests, and shows MqttService.request()', async () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, '.env'),
      `MQTT_BROKER_URL=127.0.0.1\nMQTT_BROKER_PORT=${mosquitto.port}\nMQTT_CLIENT_ID=demo-e2e\n`,
    );
    demo = runDemo(
      { MQTT_PROTOCOL_VERSION: 'MQTTv5', DEMO_ALERT_CELSIUS: '-100', DEMO_RUN_SECONDS: '4' },
      cwd,
    );
    await demo.waitForOutput(/\[Demo\] Running\./);

    // An outside MQTT 5 client asks for the stats the way MqttService.request() does.
    let stats: StatsReply;
    const client = await connectClient(mosquitto.url, { protocolVersion: 5 });
    try {
      const replyTopic = `e2e/replies/${uid()}`;
      const correlationData = randomBytes(8);
      await demo.waitForOutput(/\[AlertLogHandler\] alerts\//, 10_000);
      await client.subscribeAsync(replyTopic, { qos: 1 });
      const reply = nextMessage(client, replyTopic, { timeout: 5000, subscribe: false });
      await client.publishAsync('demo/stats/get', '', {
        qos: 1,
        properties: { responseTopic: replyTopic, correlationData },
      });
      const { payload, packet } = await reply;
      expect(Buffer.from(packet.properties?.correlationData ?? [])).toEqual(correlationData);
      stats = JSON.parse(payload.toString()) as StatsReply;
      expect(stats.readings).toBeGreaterThanOrEqual(1);
      expect(Object.keys(stats.devices).length).toBeGreaterThanOrEqual(1);
      for (const id of Object.keys(stats.devices)) {
        expect(['boiler-1', 'greenhouse-2', 'freezer-3']).toContain(id);
      }
    } finally {
      await closeClient(client);
    }

    const { code } = await exitOf(demo);
    const stdout = demo.stdout();
    expect(code).toBe(0);

    // The configured broker was used (from .env), over MQTT 5; no embedded broker was started.
    expect(mosquitto.readLog()).toMatch(
      /New client connected from 127\.0\.0\.1:\d+ as demo-e2e \(p5, c1, k60\)/,
    );
    expect(stdout).toContain(`[MqttModule] Connected to mqtt://127.0.0.1:${mosquitto.port}`);
    expect(stdout).not.toContain('[EmbeddedBroker]');
    // The app's own MqttService.request() round trip, answered by its @Subscribe handler.
    expect(stdout).toMatch(
      /\[StatsReporter\] MQTT 5 request\/reply: demo\/stats\/get was answered on nestjs-mqtt\/replies\/[0-9a-f]+: \d+ readings, \d+ alerts/,
    );
    expect(
      linesOf(stdout, 'TelemetryHandler').filter((l) => l.includes('Stats requested')),
    ).toHaveLength(2);
    // Each alert is handled once by each of its two overlapping handlers: every reading raises one
    // alert (threshold -100 °C), counted by alerts/+deviceId, so never more alerts than readings;
    // and alerts/# logs each alert once.
    for (const device of Object.values(stats.devices)) {
      expect(device.alerts).toBeLessThanOrEqual(device.readings);
    }
    const alertLines = linesOf(stdout, 'AlertLogHandler').map((l) =>
      l.replace(/^.*\[AlertLogHandler\] /, ''),
    );
    expect(alertLines.length).toBeGreaterThanOrEqual(3);
    expect(new Set(alertLines).size).toBe(alertLines.length);
    expect(demo.stderr()).not.toMatch(STACK_LINE);
  }, 30_000);
});

/**
 * Every TypeScript example of the documentation compiles and runs as pasted: the fenced `ts`
 * blocks are extracted by scripts/doc-examples.js, type-checked together with the repository's
 * strict settings, then `*.spec.ts` blocks run under Jest (all their tests must pass) and the
 * others under Node with MQTT_BROKER_URL / MQTT_BROKER_PORT pointing at an in-process broker and
 * PORT at a free port: a program must exit 0, or, for an app, log that Nest started (or that
 * MQTT connected) and then close cleanly on SIGTERM.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { startMqttTestBroker, type MqttTestBroker } from 'nestjs-mqtt/testing';
import { freePort, spawnTypeScript, terminate, trackChild, waitForExit } from './support';

/** The documents checked. */
const DOCS = ['README.md', 'docs/testing.md', 'docs/health.md', 'libs/mqtt/README.md'];
/** What a long-running example prints once it is up: an HTTP app, or an MQTT connection. */
const STARTED = /Nest application successfully started|Connected to mqtts?:\/\//;

const ROOT = resolve(__dirname, '..');
const OUT = join(ROOT, '.doc-examples');

interface Block {
  readonly name: string;
  readonly line: number;
  readonly kind: 'test' | 'program';
}

/** Runs a command to its end; resolves with its exit code and combined output. */
function run(command: string, args: string[], env?: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; output: string }>((done) => {
    const child = spawn(command, args, { cwd: ROOT, env: env ?? process.env });
    trackChild(child);
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', (code) => done({ code, output }));
  });
}

/** The e2e project's settings of jest.config.js, matching any file under `dir`. */
function jestConfig(dir: string): string {
  const { projects } = createRequire(__filename)(join(ROOT, 'jest.config.js')) as {
    projects: Array<Record<string, unknown>>;
  };
  const e2e = projects.find((p) => p.displayName === 'e2e');
  return JSON.stringify({ ...e2e, rootDir: ROOT, testMatch: [`${dir}/*.ts`], testTimeout: 30000 });
}

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe.each(DOCS)('examples of %s', (doc) => {
  const dir = join(OUT, doc.replace(/\.md$/, '').replace(/\//g, '-'));
  const listed = execFileSync(
    process.execPath,
    [join(ROOT, 'scripts/doc-examples.js'), join(ROOT, doc), dir],
    {
      encoding: 'utf8',
    },
  );
  const blocks = JSON.parse(listed) as Block[];

  it('has TypeScript examples', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it('type-check as pasted (strict, with the repository compiler settings)', async () => {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { noEmit: true },
        include: ['*.ts'],
      }),
    );
    const tsc = require.resolve('typescript/bin/tsc');
    const { code, output } = await run(process.execPath, [tsc, '-p', dir]);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  describe('running', () => {
    let broker: MqttTestBroker;
    /** A second broker, for the examples with two connections (`MQTT2_*` keys). */
    let second: MqttTestBroker;
    beforeAll(async () => {
      [broker, second] = await Promise.all([startMqttTestBroker(), startMqttTestBroker()]);
    });
    afterAll(() => Promise.all([broker?.stop(), second?.stop()]));

    for (const block of blocks.filter((b) => b.kind === 'test')) {
      it(`${block.name} (line ${block.line}) passes under Jest`, async () => {
        const jest = require.resolve('jest/bin/jest');
        const { code, output } = await run(process.execPath, [
          jest,
          '--ci',
          '--config',
          jestConfig(dir),
          '--runTestsByPath',
          join(dir, block.name),
        ]);
        expect(output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
        expect(output).not.toMatch(/failed|skipped|todo/);
        expect(code).toBe(0);
      }, 60_000);
    }

    for (const block of blocks.filter((b) => b.kind === 'program')) {
      it(`${block.name} (line ${block.line}) runs: exits 0, or starts and closes on SIGTERM`, async () => {
        const child = spawnTypeScript(join(dir, block.name), {
          cwd: dir,
          env: {
            ...process.env,
            MQTT_BROKER_URL: broker.host,
            MQTT_BROKER_PORT: String(broker.port),
            MQTT2_BROKER_URL: second.host,
            MQTT2_BROKER_PORT: String(second.port),
            PORT: String(await freePort()),
          },
        });
        let output = '';
        const started = new Promise<'started'>((ready) => {
          const read = (chunk: Buffer) => {
            output += chunk.toString();
            if (STARTED.test(output)) ready('started');
          };
          child.stdout?.on('data', read);
          child.stderr?.on('data', read);
        });
        const exited = new Promise<'exited'>((done) => child.once('exit', () => done('exited')));
        const first = await Promise.race([
          started,
          exited,
          new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), 20_000).unref()),
        ]);
        if (first === 'started') {
          child.kill('SIGTERM');
          expect(await waitForExit(child, 10_000)).toBe(true);
        } else if (first === 'timeout') {
          await terminate(child);
        }
        // enableShutdownHooks() closes the app, then re-raises the signal: dying by it is clean.
        const end = String(child.exitCode ?? child.signalCode);
        expect({ first, end, output }).toEqual({
          first: expect.stringMatching(/^(started|exited)$/),
          end: first === 'started' ? expect.stringMatching(/^(0|SIGTERM)$/) : '0',
          output: expect.not.stringMatching(/ERROR|Error:/),
        });
      }, 30_000);
    }
  });
});

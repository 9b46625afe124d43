/**
 * The demo's AsyncAPI document, written by its command (apps/demo/src/asyncapi.ts) in a child
 * process: it never connects to the configured broker, it validates against the AsyncAPI 3.0
 * schema with the official parser, and its channels, parameters and payload schemas are those of
 * the demo's handlers and @MqttPublishes declarations. The payload schemas accept and refuse
 * what the handlers' class-validator rules accept and refuse.
 */
import { Parser } from '@asyncapi/parser';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AsyncApiDocument, AsyncApiSchema } from 'nestjs-mqtt';
import { spawnTypeScript, trackTempDir, waitForExit } from './support';

const COMMAND = 'apps/demo/src/asyncapi.ts';

/** Runs the command; resolves with its output once it has exited. */
async function writeDocument(
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-mqtt-asyncapi-'));
  trackTempDir(dir);
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(MQTT|DEMO)_/.test(k)),
  );
  const proc = spawnTypeScript(COMMAND, { cwd: dir, env: { ...base, NO_COLOR: '1', ...env } });
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
  const closed = new Promise((resolve) => proc.once('close', resolve));
  expect(await waitForExit(proc, 20_000)).toBe(true);
  await closed;
  return { code: proc.exitCode, out, err, dir };
}

/** A validator of one message payload, `$ref`s into components.schemas resolved. */
function payloadValidator(doc: AsyncApiDocument, message: string): (value: unknown) => boolean {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const rewrite = (schema: unknown): unknown =>
    JSON.parse(JSON.stringify(schema).replace(/#\/components\/schemas\//g, '#/definitions/'));
  const payload = doc.components.messages[message].payload;
  const check = ajv.compile({
    ...(rewrite(payload) as object),
    definitions: rewrite(doc.components.schemas) as Record<string, AsyncApiSchema>,
  });
  return (value) => check(value);
}

describe('the demo AsyncAPI document (npm run asyncapi)', () => {
  let broker: Server;
  let connections = 0;
  let doc: AsyncApiDocument;
  let run: Awaited<ReturnType<typeof writeDocument>>;

  beforeAll(async () => {
    // Stands where the configured broker would: the command must never connect to it.
    broker = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((done) => broker.listen(0, '127.0.0.1', done));
    const { port } = broker.address() as AddressInfo;
    run = await writeDocument({
      MQTT_BROKER_URL: '127.0.0.1',
      MQTT_BROKER_PORT: String(port),
      MQTT_USERNAME: 'demo-user',
      MQTT_PASSWORD: 'never-in-the-document',
      MQTT_PROTOCOL_VERSION: 'MQTTv5',
    });
    doc = JSON.parse(readFileSync(join(run.dir, 'asyncapi.json'), 'utf8')) as AsyncApiDocument;
  }, 30_000);
  afterAll(async () => {
    await new Promise<void>((done) => broker.close(() => done()));
  });

  it('writes the file without connecting to the broker, and says where', () => {
    expect(run.code).toBe(0);
    expect(run.err).toBe('');
    expect(run.out).toMatch(
      /^AsyncAPI 3\.0 document written to .*asyncapi\.json \(5 channels, 7 operations\)\n$/,
    );
    expect(connections).toBe(0);
  });

  it('validates against the AsyncAPI 3.0 schema with the official parser', async () => {
    const diagnostics = await new Parser().validate(doc as never);
    const errors = diagnostics.filter((d) => Number(d.severity) === 0);
    expect(errors.map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`)).toEqual([]);
    const { document } = await new Parser().parse(doc as never);
    expect(document?.channels().length).toBe(5);
  });

  it('names the configured broker, never its credentials', () => {
    expect(doc.servers?.default).toMatchObject({
      host: `127.0.0.1:${(broker.address() as AddressInfo).port}`,
      protocol: 'mqtt',
      protocolVersion: '5',
    });
    const json = JSON.stringify(doc);
    expect(json).not.toContain('demo-user');
    expect(json).not.toContain('never-in-the-document');
  });

  it("has the demo handlers' channels, with their named wildcards as parameters", () => {
    const channels = Object.values(doc.channels).map((c) => ({
      address: c.address,
      parameters: Object.keys(c.parameters ?? {}),
      filters: c['x-mqtt-filters'] ?? [],
      messages: Object.keys(c.messages),
    }));
    expect(channels).toEqual([
      {
        address: 'sensors/{deviceId}/temp',
        parameters: ['deviceId'],
        // The filter as written: its root comes from DEMO_SENSOR_ROOT (default sensors).
        filters: ['${DEMO_SENSOR_ROOT}/+deviceId/temp'],
        messages: ['TemperatureReadingDto'],
      },
      {
        address: 'alerts/{deviceId}',
        parameters: ['deviceId'],
        filters: ['alerts/+deviceId'],
        messages: ['TemperatureAlertDto'],
      },
      {
        address: 'demo/stats/get',
        parameters: [],
        filters: ['demo/stats/get'],
        messages: ['demo.stats.get.message'],
      },
      {
        address: 'alerts/{rest}',
        parameters: ['rest'],
        filters: ['alerts/#'],
        messages: ['TemperatureAlertDto'],
      },
      { address: 'demo/stats', parameters: [], filters: [], messages: ['StatsSnapshot'] },
    ]);
  });

  it('has a receive operation per handler and a send operation per declared publish', () => {
    const ops = Object.entries(doc.operations).map(([id, op]) => [
      id,
      op.action,
      doc.channels[op.channel.$ref.split('/').pop() ?? ''].address,
      (op.bindings?.mqtt as { qos: number }).qos,
    ]);
    expect(ops).toEqual([
      ['TelemetryHandler.onTemperature', 'receive', 'sensors/{deviceId}/temp', 1],
      ['TelemetryHandler.onAlert', 'receive', 'alerts/{deviceId}', 1],
      ['TelemetryHandler.getStats', 'receive', 'demo/stats/get', 0],
      ['AlertLogHandler.onAnyAlert', 'receive', 'alerts/{rest}', 1],
      ['TelemetryHandler.onTemperature.send', 'send', 'alerts/{deviceId}', 1],
      ['DeviceSimulator.publishReadings.send', 'send', 'sensors/{deviceId}/temp', 1],
      ['StatsReporter.report.send', 'send', 'demo/stats', 1],
    ]);
    expect(doc.operations['StatsReporter.report.send'].bindings?.mqtt).toMatchObject({
      retain: true,
    });
  });

  it("gives TemperatureReadingDto's rules as its schema: accepts and refuses as the handler does", () => {
    expect(doc.components.schemas.TemperatureReadingDto).toEqual({
      type: 'object',
      title: 'TemperatureReadingDto',
      properties: {
        celsius: { type: 'number', minimum: -60, maximum: 150 },
        at: { type: 'string', format: 'date-time' },
      },
      required: ['celsius'],
    });
    const valid = payloadValidator(doc, 'TemperatureReadingDto');
    expect(valid({ celsius: 21.5, at: '2026-01-01T12:00:00.000Z' })).toBe(true);
    expect(valid({ celsius: -60 })).toBe(true);
    // The simulator's broken reading, and readings the DTO's @Min / @Max refuse.
    expect(valid({ celsius: 'hot', at: '2026-01-01T12:00:00.000Z' })).toBe(false);
    expect(valid({ celsius: 150.5 })).toBe(false);
    expect(valid({ at: '2026-01-01T12:00:00.000Z' })).toBe(false);
  });

  it('gives the alert schema the handlers validate, and the stats schema given as JSON', () => {
    const alert = payloadValidator(doc, 'TemperatureAlertDto');
    const sample = {
      deviceId: 'boiler-1',
      celsius: 31.2,
      thresholdCelsius: 30,
      at: '2026-01-01T12:00:00.000Z',
    };
    expect(alert(sample)).toBe(true);
    expect(alert({ ...sample, deviceId: 'no spaces allowed' })).toBe(false);
    expect(alert({ ...sample, deviceId: '' })).toBe(false);
    const stats = payloadValidator(doc, 'StatsSnapshot');
    expect(stats({ since: sample.at, readings: 0, alerts: 0, devices: {} })).toBe(true);
    expect(stats({ since: sample.at, readings: -1, alerts: 0, devices: {} })).toBe(false);
  });
});

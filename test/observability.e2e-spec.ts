/**
 * Issue 10 section 5, metrics: the Prometheus provider of docs/observability.md
 * (test/fixtures/prometheus-metrics.ts, embedded verbatim in the doc) runs in a Nest app against
 * an aedes broker; after N handled, failed and timed-out handler calls, publishes and a forced
 * reconnect, the scraped exposition text holds exactly those counts.
 */
import type { Client } from 'aedes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readings, STUCK_TIMEOUT_MS } from './fixtures/observability-handlers';
import { MetricsController, MqttMetrics } from './fixtures/prometheus-metrics';
import { closeApp, startAedes, startMqttApp, until, type AedesBroker } from './support';
import type { MqttTestApp } from './support';

const OK = 5;
const FAILED = 3;
const TIMED_OUT = 2;

/** Samples of a Prometheus text exposition, by `name{label="value",...}` as printed. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

describe('Observability: MqttService.events$ and stats() mapped to Prometheus (docs/observability.md)', () => {
  let broker: AedesBroker;
  let started: MqttTestApp;
  let readings: Readings;
  let controller: MetricsController;
  const brokerClients: Client[] = [];
  const scrape = async () => parseExposition(await controller.scrape());
  const count = (type: string) => started.events.filter((e) => e.type === type).length;

  beforeAll(async () => {
    broker = await startAedes();
    broker.broker.on('clientReady', (client) => brokerClients.push(client));
    started = await startMqttApp({
      broker,
      providers: [Readings, MqttMetrics],
      controllers: [MetricsController],
    });
    readings = started.app.get(Readings);
    controller = started.app.get(MetricsController);
  });

  afterAll(async () => {
    readings?.release();
    if (started) await closeApp(started.app);
    await broker?.stop();
  });

  it('counts handler calls per handler and outcome, with a duration histogram', async () => {
    const { mqtt } = started;
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < OK; i++) sends.push(mqtt.publish('obs/ok', { i }, { qos: 1 }));
    for (let i = 0; i < FAILED; i++) sends.push(mqtt.publish('obs/fail', { i }, { qos: 1 }));
    for (let i = 0; i < TIMED_OUT; i++) sends.push(mqtt.publish('obs/stuck', { i }, { qos: 1 }));
    await Promise.all(sends);
    await until('every handler call to settle', () => count('message') === OK + FAILED + TIMED_OUT);

    const m = await scrape();
    expect(m.get('mqtt_messages_total{handler="Readings.ok",outcome="handled"}')).toBe(OK);
    expect(m.get('mqtt_messages_total{handler="Readings.fail",outcome="failed"}')).toBe(FAILED);
    expect(m.get('mqtt_messages_total{handler="Readings.stuck",outcome="timeout"}')).toBe(
      TIMED_OUT,
    );
    expect([...m.keys()].filter((k) => k.startsWith('mqtt_messages_total'))).toHaveLength(3);

    const histogram = (suffix: string, handler: string, le?: string) =>
      m.get(
        `mqtt_handler_duration_seconds_${suffix}{${le ? `le="${le}",` : ''}handler="${handler}"}`,
      );
    expect(histogram('count', 'Readings.ok')).toBe(OK);
    expect(histogram('bucket', 'Readings.ok', '+Inf')).toBe(OK);
    expect(histogram('count', 'Readings.fail')).toBe(FAILED);
    expect(histogram('count', 'Readings.stuck')).toBe(TIMED_OUT);
    // A timed-out call is observed at its timeout (150 ms): above the 0.1 s bucket.
    expect(histogram('bucket', 'Readings.stuck', '0.1')).toBe(0);
    expect(histogram('bucket', 'Readings.stuck', '+Inf')).toBe(TIMED_OUT);
    expect(histogram('sum', 'Readings.stuck')).toBeGreaterThanOrEqual(
      (TIMED_OUT * (STUCK_TIMEOUT_MS - 1)) / 1000,
    );

    // The counters agree with MqttService.stats(), and the queue gauge reads it.
    const stats = new Map(mqtt.stats().handlers.map((h) => [h.name, h]));
    expect(stats.get('Readings.ok')).toMatchObject({ handled: OK, failed: 0 });
    expect(stats.get('Readings.fail')).toMatchObject({ handled: 0, failed: FAILED });
    expect(stats.get('Readings.stuck')).toMatchObject({ failed: TIMED_OUT, timedOut: TIMED_OUT });
    expect(m.get('mqtt_handler_queued{handler="Readings.ok"}')).toBe(0);
    expect(m.get('mqtt_connected')).toBe(1);
  });

  it('counts publishes by QoS', async () => {
    const before = await scrape();
    await started.mqtt.publish('obs/nobody', 'a', { qos: 0 });
    await started.mqtt.publish('obs/nobody', 'b', { qos: 0 });
    await started.mqtt.publish('obs/nobody', 'c', { qos: 2 });
    const after = await scrape();
    expect(before.get('mqtt_publishes_total{qos="1"}')).toBe(OK + FAILED + TIMED_OUT);
    expect(after.get('mqtt_publishes_total{qos="1"}')).toBe(OK + FAILED + TIMED_OUT);
    expect(after.get('mqtt_publishes_total{qos="0"}')).toBe(2);
    expect(after.get('mqtt_publishes_total{qos="2"}')).toBe(1);
    expect(started.mqtt.stats().published).toBe(OK + FAILED + TIMED_OUT + 3);
  });

  it('counts reconnect attempts after the broker drops the connection', async () => {
    expect((await scrape()).get('mqtt_reconnects_total')).toBe(0);
    expect(brokerClients).toHaveLength(1);
    brokerClients[0].close();
    await until('the client to reconnect', () => count('connect') === 2 && brokerClients[1]);
    const m = await scrape();
    expect(m.get('mqtt_reconnects_total')).toBe(1);
    expect(count('reconnect')).toBe(1);
    expect(m.get('mqtt_connected')).toBe(1);
  });

  it('reports the connection as down once the app is closed', async () => {
    readings.release();
    await closeApp(started.app);
    expect((await scrape()).get('mqtt_connected')).toBe(0);
  });
});

describe('docs/observability.md', () => {
  const doc = readFileSync(join(__dirname, '../docs/observability.md'), 'utf8');

  it.each(['prometheus-metrics.ts', 'otel-metrics.ts', 'otel-tracing.ts'])(
    'embeds test/fixtures/%s verbatim (the code the e2e suites run)',
    (file) => {
      const fixture = readFileSync(join(__dirname, 'fixtures', file), 'utf8');
      const block = new RegExp(`<!-- test/fixtures/${file} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``);
      expect(block.exec(doc)?.[1]).toBe(fixture);
    },
  );
});

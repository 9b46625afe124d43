/**
 * Issue 10 section 5, metrics through OpenTelemetry: the provider of docs/observability.md
 * (test/fixtures/otel-metrics.ts) with an SDK MeterProvider registered globally, in a Nest app
 * against an aedes broker; after N handled, failed and timed-out calls and some publishes, a
 * collection holds exactly those counts.
 */
import { metrics, type Attributes } from '@opentelemetry/api';
import {
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { Readings, STUCK_TIMEOUT_MS } from './fixtures/observability-handlers';
import { MqttOtelMetrics } from './fixtures/otel-metrics';
import {
  closeApp,
  startAedes,
  startMqttApp,
  until,
  type AedesBroker,
  type MqttTestApp,
} from './support';

const OK = 4;
const FAILED = 2;
const TIMED_OUT = 3;

/** Collects on demand (what a Prometheus exporter does on a scrape). */
class OnDemandReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

describe('Observability: MqttService.events$ and stats() mapped to OpenTelemetry metrics (docs/observability.md)', () => {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  let broker: AedesBroker;
  let started: MqttTestApp;

  async function collect(): Promise<Map<string, MetricData>> {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    return new Map(all.map((m) => [m.descriptor.name, m]));
  }

  function point<T>(metric: MetricData | undefined, attributes: Attributes): T | undefined {
    const points = (metric?.dataPoints ?? []) as Array<DataPoint<T>>;
    const wanted = JSON.stringify(Object.entries(attributes).sort());
    return points.find((p) => JSON.stringify(Object.entries(p.attributes).sort()) === wanted)
      ?.value;
  }

  beforeAll(async () => {
    // Before the app is created: MqttOtelMetrics takes its meter in its constructor.
    metrics.setGlobalMeterProvider(provider);
    broker = await startAedes();
    started = await startMqttApp({ broker, providers: [Readings, MqttOtelMetrics] });
  });

  afterAll(async () => {
    started?.app.get(Readings).release();
    if (started) await closeApp(started.app);
    await broker?.stop();
    metrics.disable();
    await provider.shutdown();
  });

  it('counts handler calls by handler and outcome, with a duration histogram, and publishes by QoS', async () => {
    const { mqtt, events } = started;
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < OK; i++) sends.push(mqtt.publish('obs/ok', { i }, { qos: 1 }));
    for (let i = 0; i < FAILED; i++) sends.push(mqtt.publish('obs/fail', { i }, { qos: 1 }));
    for (let i = 0; i < TIMED_OUT; i++) sends.push(mqtt.publish('obs/stuck', { i }, { qos: 2 }));
    sends.push(mqtt.publish('obs/nobody', 'x', { qos: 0 }));
    await Promise.all(sends);
    const settled = () => events.filter((e) => e.type === 'message').length;
    await until('every handler call to settle', () => settled() === OK + FAILED + TIMED_OUT);

    const m = await collect();
    const mqttAttrs = (handler: string, outcome: string) => ({
      'messaging.system': 'mqtt',
      handler,
      outcome,
      ...(outcome !== 'handled' && { 'error.type': outcome }),
    });
    const consumed = m.get('messaging.client.consumed.messages');
    expect(consumed?.dataPoints).toHaveLength(3);
    expect(point(consumed, mqttAttrs('Readings.ok', 'handled'))).toBe(OK);
    expect(point(consumed, mqttAttrs('Readings.fail', 'failed'))).toBe(FAILED);
    expect(point(consumed, mqttAttrs('Readings.stuck', 'timeout'))).toBe(TIMED_OUT);

    const duration = m.get('messaging.process.duration');
    expect(duration?.descriptor.unit).toBe('s');
    const ok = point<Histogram>(duration, mqttAttrs('Readings.ok', 'handled'));
    const stuck = point<Histogram>(duration, mqttAttrs('Readings.stuck', 'timeout'));
    expect(ok?.count).toBe(OK);
    expect(point<Histogram>(duration, mqttAttrs('Readings.fail', 'failed'))?.count).toBe(FAILED);
    expect(stuck?.count).toBe(TIMED_OUT);
    expect(stuck?.buckets.boundaries).toEqual([0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10]);
    expect(stuck?.min).toBeGreaterThanOrEqual((STUCK_TIMEOUT_MS - 1) / 1000);
    expect(stuck?.buckets.counts.slice(0, 4)).toEqual([0, 0, 0, 0]); // nothing at or under 0.1 s

    const sent = m.get('messaging.client.sent.messages');
    expect(point(sent, { 'messaging.system': 'mqtt', qos: 1 })).toBe(OK + FAILED);
    expect(point(sent, { 'messaging.system': 'mqtt', qos: 2 })).toBe(TIMED_OUT);
    expect(point(sent, { 'messaging.system': 'mqtt', qos: 0 })).toBe(1);

    const queued = m.get('mqtt.handler.queued');
    expect(point(queued, { handler: 'Readings.ok' })).toBe(0);
    expect(m.get('mqtt.client.reconnects')).toBeUndefined(); // no reconnect, no data point
  });
});

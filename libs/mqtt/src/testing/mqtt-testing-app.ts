import { randomBytes } from 'node:crypto';
import { Test } from '@nestjs/testing';
import { MqttModule } from '../mqtt.module';
import { MqttService } from '../mqtt.service';
import {
  capturedMatching,
  encodeTestPayload,
  startMqttTestBroker,
  type MqttCapturedMessage,
} from './mqtt-test-broker';
import type {
  MqttHandlerSettledEvent,
  MqttSettledMatch,
  MqttTestingApp,
  MqttTestingAppOptions,
} from './mqtt-testing.interfaces';
import * as messages from './mqtt-testing.messages';

const DEFAULT_TIMEOUT_MS = 5000;

function describeMatch(match: MqttSettledMatch): string {
  const parts = [
    match.handler && `handler ${match.handler}`,
    match.topic && `topic "${match.topic}"`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(' for ') : 'any message';
}

/** Calls `check` whenever something new arrives, until it returns a value or time runs out. */
function waitFor<T>(
  subscribe: (wake: () => void) => () => void,
  check: () => T | undefined,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let unsubscribe = (): void => undefined;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(onTimeout());
    }, timeoutMs);
    const wake = (): void => {
      const value = check();
      if (value === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    };
    unsubscribe = subscribe(wake);
    wake();
  });
}

/**
 * Starts a Nest application context with `MqttModule.forRoot()` pointed at an in-process aedes
 * broker (a new one, or `options.broker`), your imports and providers, and resolves once it is
 * connected and every `@Subscribe` filter is subscribed. Close it with `close()`.
 *
 * @example
 * const kit = await startMqttTestingApp({ providers: [Telemetry] });
 * await kit.deliver('sensors/a1/temp', { celsius: 35 });
 * expect(kit.published('alerts/#')).toHaveLength(1);
 * await kit.close();
 */
export async function startMqttTestingApp(
  options: MqttTestingAppOptions = {},
): Promise<MqttTestingApp> {
  const ownBroker = options.broker === undefined;
  const broker = options.broker ?? (await startMqttTestBroker());
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  try {
    const imports =
      typeof options.imports === 'function' ? options.imports(broker) : (options.imports ?? []);
    const mqttModule =
      options.mqttModule === false
        ? []
        : [
            MqttModule.forRoot({
              MQTT_BROKER_URL: broker.host,
              MQTT_BROKER_PORT: broker.port,
              MQTT_CLIENT_ID: `mqtt-test-${randomBytes(6).toString('hex')}`,
              MQTT_RECONNECT_PERIOD: 0,
              ...options.mqtt,
            }),
          ];
    let builder = Test.createTestingModule({
      imports: [...mqttModule, ...imports],
      providers: options.providers ?? [],
      controllers: options.controllers ?? [],
    });
    if (options.logger) builder = builder.setLogger(options.logger);
    if (options.override) builder = options.override(builder);
    const app = await builder.compile();
    const mqtt = app.get(MqttService);

    // Every settled handler call since the start, and which ones settled() already returned.
    const settledEvents: MqttHandlerSettledEvent[] = [];
    const taken = new Set<MqttHandlerSettledEvent>();
    const settledWakers = new Set<() => void>();
    mqtt.events$.subscribe((event) => {
      if (event.type !== 'message') return;
      settledEvents.push(event);
      for (const wake of [...settledWakers]) wake();
    });
    const onSettled = (wake: () => void) => {
      settledWakers.add(wake);
      return () => settledWakers.delete(wake);
    };

    try {
      await app.init();
    } catch (error) {
      await app.close().catch(() => undefined);
      throw error;
    }
    const clientId = mqtt.clientId;

    const published = (filter = '#'): MqttCapturedMessage[] =>
      capturedMatching(broker.captured, filter, clientId);

    const kit: MqttTestingApp = {
      app,
      broker,
      mqtt,
      get: <T>(token: Parameters<MqttTestingApp['get']>[0]) => app.get<T>(token),
      publish: (topic, payload, { qos = 0, retain = false } = {}) =>
        broker.publish(topic, payload, { qos, retain }),

      async deliver(topic, payload, { qos = 1, retain = false, timeout: ms = timeout } = {}) {
        const body = encodeTestPayload(payload);
        const firstEvent = settledEvents.length;
        const firstAck = broker.acknowledged.length;
        const acknowledged = waitFor(
          broker.onChange,
          () =>
            broker.acknowledged
              .slice(firstAck)
              .find((a) => a.clientId === clientId && a.topic === topic && a.payload.equals(body)),
          ms,
          () => new Error(messages.NOT_ACKNOWLEDGED(topic, clientId, ms)),
        );
        await broker.publish(topic, body, { qos, retain });
        await acknowledged;
        const outcomes = settledEvents
          .slice(firstEvent)
          .filter((e) => e.topic === topic && !taken.has(e));
        for (const event of outcomes) taken.add(event);
        return { outcomes };
      },

      settled(match = {}, ms = timeout) {
        const wanted: MqttSettledMatch = typeof match === 'string' ? { handler: match } : match;
        const find = () =>
          settledEvents.find(
            (e) =>
              !taken.has(e) &&
              (wanted.handler === undefined || e.handler === wanted.handler) &&
              (wanted.topic === undefined || e.topic === wanted.topic),
          );
        return waitFor(
          onSettled,
          () => {
            const event = find();
            if (event) taken.add(event);
            return event;
          },
          ms,
          () =>
            new Error(
              messages.NOT_SETTLED(
                describeMatch(wanted),
                ms,
                settledEvents.map((e) => `${e.handler} ${e.topic} (${e.outcome})`),
              ),
            ),
        );
      },

      published,
      waitForPublished(filter, count = 1, ms = timeout) {
        return waitFor(
          broker.onChange,
          () => {
            const found = published(filter);
            return found.length >= count ? found : undefined;
          },
          ms,
          () => new Error(messages.NOT_PUBLISHED(filter, count, published(filter).length, ms)),
        );
      },

      async close() {
        try {
          await app.close();
        } finally {
          if (ownBroker) await broker.stop();
        }
      },
    };
    return kit;
  } catch (error) {
    if (ownBroker) await broker.stop();
    throw error;
  }
}

/**
 * Fault: hostile or broken payloads: invalid UTF-8 into string, JSON and DTO handlers, a 10 MB
 * payload and JSON nested 100,000 levels deep: each must be a handled failure (the handler is not
 * called with mangled data, one bounded log line, a dead letter carrying the original bytes, the
 * QoS 1 message acknowledged: Mosquitto's log shows the PUBACK) and the app goes on handling the
 * next message. `__proto__` / `constructor` keys into a class-validator DTO are dropped (never
 * reaching a prototype) and the valid rest is handled.
 */
import { Injectable } from '@nestjs/common';
import { IsNumber, IsString } from 'class-validator';
import type { MqttClient } from 'mqtt';
import { Payload, Subscribe } from 'nestjs-mqtt';

import {
  closeApp,
  closeClient,
  collectMessages,
  connectClient,
  describeWithMosquitto,
  startMosquitto,
  startMqttApp,
  until,
  type MessageCollector,
  type MosquittoBroker,
  type MqttTestApp,
} from '../support';
import { guardUnhandledRejections } from './support/checks';
import { logFigures, sequenceOf, Tally } from './support/tally';

const DEAD_LETTERS = 'bad/dead';

class Reading {
  @IsString()
  sensor!: string;

  @IsNumber()
  value!: number;
}

type Kind = 'text' | 'json' | 'dto';

@Injectable()
class BadInputHandlers {
  readonly calls: Record<Kind, unknown[]> = { text: [], json: [], dto: [] };
  readonly ok = new Tally();

  @Subscribe('bad/text', { qos: 1 })
  text(@Payload() text: string): void {
    this.calls.text.push(text);
  }

  @Subscribe('bad/json', { qos: 1 })
  json(@Payload() body: Record<string, unknown>): void {
    this.calls.json.push(body);
  }

  @Subscribe('bad/dto', { qos: 1 })
  dto(@Payload() reading: Reading): void {
    this.calls.dto.push(reading);
  }

  @Subscribe('bad/ok', { qos: 1 })
  healthy(@Payload() text: string): void {
    this.ok.record(sequenceOf(text));
  }
}

const INVALID_UTF8 = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0xc3, 0x28, 0x7d]);
const TEN_MB = Buffer.from(`{"sensor":"s","value":"${'x'.repeat(10 * 1024 * 1024)}"}`);
const DEPTH = 100_000;
const DEEP = Buffer.from(`{"sensor":${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)},"value":1}`);
const PROTO = Buffer.from(
  '{"sensor":"s","value":1,"__proto__":{"polluted":"yes"},' +
    '"constructor":{"prototype":{"polluted":"yes"}}}',
);

describeWithMosquitto('fault: bad input', () => {
  const unhandled = guardUnhandledRejections();
  let broker: MosquittoBroker;
  let started: MqttTestApp;
  let client: MqttClient;
  let letters: MessageCollector;
  let okSent = 0;

  beforeAll(async () => {
    broker = await startMosquitto();
    started = await startMqttApp({
      broker,
      options: { MQTT_DEAD_LETTER_TOPIC: DEAD_LETTERS },
      providers: [BadInputHandlers],
    });
    client = await connectClient(broker.url);
    letters = await collectMessages(client, DEAD_LETTERS, { qos: 1 });
  });

  afterAll(async () => {
    unhandled.stop();
    letters?.stop();
    if (client) await closeClient(client);
    if (started) await closeApp(started.app);
    await broker?.stop();
  });

  /** PUBLISHes Mosquitto sent to the app, and PUBACKs it got back, from its log. */
  function wire(): { publishes: number; pubacks: number } {
    const log = broker.readLog();
    const id = started.mqtt.clientId;
    return {
      publishes: log.split(`Sending PUBLISH to ${id} `).length - 1,
      pubacks: log.split(`Received PUBACK from ${id} `).length - 1,
    };
  }

  /** Publishes `payload` to bad/<kind> and checks that it became a handled failure. */
  async function expectHandledFailure(name: string, kind: Kind, payload: Buffer): Promise<void> {
    const handlers = started.app.get(BadInputHandlers);
    const topic = `bad/${kind}`;
    const errorsBefore = started.logger.at('error').length;
    const lettersBefore = letters.messages.length;
    const callsBefore = handlers.calls[kind].length;
    const startedAt = Date.now();
    await client.publishAsync(topic, payload, { qos: 1 });

    const logged = await until(
      `an error line for "${topic}"`,
      () => {
        if (handlers.calls[kind].length > callsBefore) {
          throw new Error(
            `the ${kind} handler was called (with ${JSON.stringify(handlers.calls[kind][callsBefore]).slice(0, 80)}) ` +
              'instead of the message failing before it',
          );
        }
        return started.logger
          .at('error')
          .slice(errorsBefore)
          .find((l) => l.message.includes(`"${topic}"`));
      },
      10_000,
    );
    const letter = await until(
      `a dead letter from "${topic}"`,
      () =>
        letters.messages
          .slice(lettersBefore)
          .map(
            (m) =>
              JSON.parse(m.payload.toString('utf8')) as {
                topic: string;
                payload: string;
              },
          )
          .find((l) => l.topic === topic),
      20_000,
    );
    await until(
      'the PUBACK of every PUBLISH sent to the app',
      () => {
        const { publishes, pubacks } = wire();
        return publishes > 0 && pubacks === publishes;
      },
      10_000,
      wire,
    );
    const n = okSent++;
    await client.publishAsync('bad/ok', String(n), { qos: 1 });
    await until('the app to handle the next message', () => handlers.ok.has(n), 5000);

    logFigures(`bad input: ${name}`, {
      payloadBytes: payload.length,
      logLineChars: logged.text.length,
      failureMs: Date.now() - startedAt,
    });
    expect(handlers.calls[kind].slice(callsBefore)).toEqual([]);
    expect(logged.text.length).toBeLessThan(4096);
    expect(Buffer.from(letter.payload, 'base64').equals(payload)).toBe(true);
    expect(started.logger.at('error').slice(errorsBefore)).toHaveLength(1);
    unhandled.check();
  }

  it.each(['text', 'json', 'dto'] as const)(
    'invalid UTF-8 into a %s handler is a handled failure',
    (kind) => expectHandledFailure(`invalid UTF-8 -> ${kind}`, kind, INVALID_UTF8),
    30_000,
  );

  it(
    'a 10 MB payload that fails validation is a handled failure, logged in a bounded line',
    () => expectHandledFailure('10 MB payload -> dto', 'dto', TEN_MB),
    60_000,
  );

  it(
    'JSON nested 100,000 levels deep into a DTO is a handled failure, no stack overflow escapes',
    () => expectHandledFailure('100,000-level JSON -> dto', 'dto', DEEP),
    30_000,
  );

  it('__proto__ / constructor keys into a DTO: dropped before validation, the valid rest is handled, no prototype pollution', async () => {
    const handlers = started.app.get(BadInputHandlers);
    const before = handlers.calls.dto.length;
    await client.publishAsync('bad/dto', PROTO, { qos: 1 });
    await until('the DTO handler', () => handlers.calls.dto.length > before, 10_000);
    const reading = handlers.calls.dto[before] as Reading;
    expect(reading).toBeInstanceOf(Reading);
    expect(Object.getPrototypeOf(reading)).toBe(Reading.prototype);
    expect(reading.constructor).toBe(Reading);
    expect(Object.keys(reading)).toEqual(['sensor', 'value']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Reading.prototype as unknown as Record<string, unknown>).polluted).toBeUndefined();
    unhandled.check();
  }, 30_000);
});

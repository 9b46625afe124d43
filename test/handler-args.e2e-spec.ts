/**
 * Section 3: handler arguments. Named wildcards, @TopicParam / @TopicParams, @Payload decoding by
 * the parameter's type (Buffer, string, validated DTO class, JSON-or-text), @Topic, @Packet,
 * @Message, MQTT 5 @UserProperties / @MessageProperties, and the undecorated default
 * `(payload: Buffer, topic, packet)`. Against a private Mosquitto (MQTT 5 and 3.1.1).
 */
import { Injectable } from '@nestjs/common';
import { IsNotEmpty, IsNumber, IsString, Max, Min } from 'class-validator';
import type { IPublishPacket, MqttClient } from 'mqtt';
import {
  Message,
  MessageProperties,
  Packet,
  Payload,
  Subscribe,
  Topic,
  TopicParam,
  TopicParams,
  UserProperties,
  type MqttMessage,
  type MqttUserProperties,
} from 'nestjs-mqtt';
import {
  closeClient,
  connectClient,
  describeWithMosquitto,
  startMosquitto,
  until,
  type MosquittoBroker,
} from './support';
import { Fence, loggedSubscriptions, startApp, type StartedApp } from './fixtures/routing-helpers';

class ReadingDto {
  @IsString()
  @IsNotEmpty()
  device!: string;

  @IsNumber()
  @Min(-50)
  @Max(150)
  celsius!: number;

  label(): string {
    return `${this.device}@${this.celsius}`;
  }
}

type Call = Record<string, unknown>;

@Injectable()
class ArgHandlers {
  readonly calls: Record<string, Call[]> = {};

  private add(name: string, call: Call): void {
    (this.calls[name] ??= []).push(call);
  }

  @Subscribe('sensors/+deviceId/temp')
  onSensor(
    @TopicParam('deviceId') deviceId: string,
    @TopicParams() params: Record<string, string>,
    @Topic() topic: string,
  ): void {
    this.add('sensor', { deviceId, params, topic });
  }

  @Subscribe('logs/#path')
  onLogs(@TopicParam('path') path: string, @Topic() topic: string): void {
    this.add('logs', { path, topic });
  }

  @Subscribe('site/+site/+room/#rest')
  onSite(@TopicParams() params: Record<string, string>): void {
    this.add('site', { params });
  }

  @Subscribe('buf/+')
  onBuffer(@Payload() body: Buffer): void {
    this.add('buffer', { body });
  }

  @Subscribe('str/+')
  onString(@Payload() body: string): void {
    this.add('string', { body });
  }

  @Subscribe('any/+')
  onAny(@Payload() body: unknown, @Topic() topic: string): void {
    this.add('any', { topic, body });
  }

  @Subscribe('field/+')
  onField(@Payload('celsius') celsius: unknown): void {
    this.add('field', { celsius });
  }

  @Subscribe('dto/+')
  onDto(@Payload() body: ReadingDto, @Topic() topic: string): void {
    this.add('dto', {
      topic,
      isDto: body instanceof ReadingDto,
      label: body.label(),
      celsius: body.celsius,
    });
  }

  @Subscribe('meta/+', { qos: 1 })
  onMeta(
    @Topic() topic: string,
    @Packet() packet: IPublishPacket,
    @Message() message: MqttMessage,
  ): void {
    this.add('meta', { topic, packet, message });
  }

  @Subscribe('props/+')
  onProps(
    @UserProperties() all: MqttUserProperties,
    @UserProperties('tag') tag: unknown,
    @MessageProperties('contentType') contentType: unknown,
    @MessageProperties() props: Record<string, unknown>,
  ): void {
    this.add('props', { all, tag, contentType, props });
  }

  @Subscribe('plain/+', { qos: 2 })
  onPlain(payload: Buffer, topic: string, packet: IPublishPacket): void {
    this.add('plain', { payload, topic, packet, argc: arguments.length });
  }
}

/** Reads its named wildcard only through `@Message()` (its `params`). */
@Injectable()
class MessageOnlyHandler {
  readonly messages: MqttMessage[] = [];

  @Subscribe('msg/+id')
  onMessage(@Message() message: MqttMessage): void {
    this.messages.push(message);
  }
}

describeWithMosquitto('handler arguments (section 3)', () => {
  let mosquitto: MosquittoBroker;
  let current: StartedApp | undefined;
  let publisher: MqttClient | undefined;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
  });
  afterEach(async () => {
    if (publisher) await closeClient(publisher);
    publisher = undefined;
    await current?.close();
    current = undefined;
  });
  afterAll(() => mosquitto?.stop());

  async function start(version: 4 | 5 = 5): Promise<{ app: StartedApp; h: ArgHandlers }> {
    current = await startApp({ broker: mosquitto, version, providers: [Fence, ArgHandlers] });
    return { app: current, h: current.get(ArgHandlers) };
  }

  it('named wildcards: @TopicParam / @TopicParams, subscribed at the broker without the names', async () => {
    const { app, h } = await start();
    const subs = loggedSubscriptions(mosquitto.readLog(), app.clientId).map((s) => s.filter);
    expect(subs).toEqual(expect.arrayContaining(['sensors/+/temp', 'logs/#', 'site/+/+/#']));
    expect(app.mqtt.topics).toEqual(expect.arrayContaining(['sensors/+/temp', 'logs/#']));
    expect(subs.some((s) => s.includes('deviceId') || s.includes('path'))).toBe(false);

    for (const t of [
      'sensors/dev-42/temp',
      'sensors//temp',
      'logs/a/b/c',
      'logs',
      'site/s1/r2',
      'site/s1/r2/x/y',
    ]) {
      await app.mqtt.publish(t, 'x', { qos: 1 });
    }
    await app.fence();
    expect(h.calls.sensor).toEqual([
      { deviceId: 'dev-42', params: { deviceId: 'dev-42' }, topic: 'sensors/dev-42/temp' },
      { deviceId: '', params: { deviceId: '' }, topic: 'sensors//temp' },
    ]);
    expect(h.calls.logs).toEqual([
      { path: 'a/b/c', topic: 'logs/a/b/c' },
      { path: '', topic: 'logs' },
    ]);
    expect(h.calls.site).toEqual([
      { params: { site: 's1', room: 'r2', rest: '' } },
      { params: { site: 's1', room: 'r2', rest: 'x/y' } },
    ]);
  });

  it('@Payload() decodes by the parameter type and never alters the bytes', async () => {
    const { app, h } = await start();
    const binary = Buffer.from([0xff, 0x00, 0xfe, 0x7b, 0x0a]);
    const jsonBytes = Buffer.from('{"a":1}');
    await app.mqtt.publish('buf/1', binary, { qos: 1 });
    await app.mqtt.publish('buf/2', jsonBytes, { qos: 1 });
    await app.mqtt.publish('str/1', 'héllo ✓', { qos: 1 });
    await app.mqtt.publish('str/2', '{"a":1}', { qos: 1 });
    const anyPayloads: Array<[string, string]> = [
      ['any/obj', '{"a":[1,{"b":null}]}'],
      ['any/arr', '[1,2]'],
      ['any/num', '42'],
      ['any/str', '"quoted"'],
      ['any/bool', 'true'],
      ['any/text', 'hello world'],
      ['any/broken', '{not json'],
      ['any/empty', ''],
    ];
    for (const [t, p] of anyPayloads) await app.mqtt.publish(t, p, { qos: 1 });
    await app.mqtt.publish('field/1', { celsius: 21.5, other: true }, { qos: 1 });
    await app.fence();

    const buffers = h.calls.buffer.map((c) => c.body);
    expect(buffers.every((b) => Buffer.isBuffer(b))).toBe(true);
    expect(buffers).toEqual([binary, jsonBytes]);

    expect(h.calls.string).toEqual([{ body: 'héllo ✓' }, { body: '{"a":1}' }]);

    expect(h.calls.any).toEqual([
      { topic: 'any/obj', body: { a: [1, { b: null }] } },
      { topic: 'any/arr', body: [1, 2] },
      { topic: 'any/num', body: 42 },
      { topic: 'any/str', body: 'quoted' },
      { topic: 'any/bool', body: true },
      { topic: 'any/text', body: 'hello world' },
      { topic: 'any/broken', body: '{not json' },
      { topic: 'any/empty', body: '' },
    ]);
    expect(h.calls.field).toEqual([{ celsius: 21.5 }]);
  });

  it('@Payload() with a class: JSON into an instance, validated; invalid → not called, one error line', async () => {
    const { app, h } = await start();
    const errorsBefore = app.logger.at('error').length;
    await app.mqtt.publish('dto/ok', { device: 'd1', celsius: 20 }, { qos: 1 });
    await app.fence();
    expect(h.calls.dto).toEqual([{ topic: 'dto/ok', isDto: true, label: 'd1@20', celsius: 20 }]);
    expect(app.logger.at('error')).toHaveLength(errorsBefore);

    await app.mqtt.publish('dto/invalid', { device: 'd2', celsius: 999 }, { qos: 1 });
    await app.fence();
    expect(h.calls.dto).toHaveLength(1);
    const invalidErrors = app.logger.at('error').slice(errorsBefore);
    expect(invalidErrors).toHaveLength(1);
    expect(invalidErrors[0].message).toContain('ArgHandlers.onDto');
    expect(invalidErrors[0].message).toContain('dto/invalid');
    expect(invalidErrors[0].message).toMatch(/celsius must not be greater than 150/);

    await app.mqtt.publish('dto/notjson', 'not json at all', { qos: 1 });
    await app.fence();
    expect(h.calls.dto).toHaveLength(1);
    const notJsonErrors = app.logger.at('error').slice(errorsBefore + invalidErrors.length);
    expect(notJsonErrors).toHaveLength(1);
    expect(notJsonErrors[0].message).toContain('ArgHandlers.onDto');
    expect(notJsonErrors[0].message).toContain('dto/notjson');
    expect(notJsonErrors[0].message).toMatch(/not valid JSON for ReadingDto/);
  });

  it('@Topic(), @Packet() and @Message() give the topic, the PUBLISH packet and the message', async () => {
    const { app, h } = await start();
    publisher = await connectClient(mosquitto.url, { protocolVersion: 5 });
    await publisher.publishAsync('meta/a', 'payload-a', { qos: 1 });
    const meta = await waitForCall(h, 'meta');
    expect(meta.topic).toBe('meta/a');
    const packet = meta.packet as IPublishPacket;
    expect(packet.cmd).toBe('publish');
    expect(packet.topic).toBe('meta/a');
    expect(packet.qos).toBe(1);
    expect(packet.retain).toBe(false);
    expect(Buffer.from(packet.payload as Buffer).toString()).toBe('payload-a');
    const message = meta.message as MqttMessage;
    expect(message.topic).toBe('meta/a');
    expect(message.payload).toEqual(Buffer.from('payload-a'));
    expect(message.packet).toBe(packet);
    expect(message.filter).toBe('meta/+');
    expect(message.params).toEqual({});
    expect(app.logger.at('error')).toEqual([]);
  });

  it('@Message() exposes the named wildcards (params) and the filter as written', async () => {
    current = await startApp({ broker: mosquitto, providers: [Fence, MessageOnlyHandler] });
    await current.mqtt.publish('msg/abc', Buffer.from([1, 2, 3]), { qos: 1 });
    await current.fence();
    const [message] = current.get(MessageOnlyHandler).messages;
    expect(message.topic).toBe('msg/abc');
    expect(message.payload).toEqual(Buffer.from([1, 2, 3]));
    expect(message.params).toEqual({ id: 'abc' });
    expect(message.filter).toBe('msg/+id');
  });

  it('MQTT 5 @UserProperties() / @UserProperties(name) / @MessageProperties(name)', async () => {
    const { h } = await start(5);
    publisher = await connectClient(mosquitto.url, { protocolVersion: 5 });
    await publisher.publishAsync('props/1', '{}', {
      qos: 1,
      properties: {
        contentType: 'application/json',
        userProperties: { tag: 'blue', multi: ['x', 'y'] },
      },
    });
    await publisher.publishAsync('props/2', 'none', { qos: 1 });
    await waitForCall(h, 'props', 2);
    expect(h.calls.props[0].all).toEqual({ tag: 'blue', multi: ['x', 'y'] });
    expect(h.calls.props[0].tag).toBe('blue');
    expect(h.calls.props[0].contentType).toBe('application/json');
    expect(h.calls.props[0].props).toEqual(
      expect.objectContaining({ contentType: 'application/json' }),
    );
    expect(h.calls.props[1].all).toEqual({});
    expect(h.calls.props[1].tag).toBeUndefined();
    expect(h.calls.props[1].contentType).toBeUndefined();
  });

  it.each([5, 4] as const)(
    'a method without parameter decorators gets (payload: Buffer, topic, packet) (MQTT v%s)',
    async (version) => {
      const { app, h } = await start(version);
      await app.mqtt.publish('plain/x', '{"looks":"like json"}', { qos: 2 });
      await app.mqtt.publish('props/3', 'p', { qos: 1 });
      await app.fence();
      expect(h.calls.plain).toHaveLength(1);
      const call = h.calls.plain[0];
      expect(call.argc).toBe(3);
      expect(Buffer.isBuffer(call.payload)).toBe(true);
      expect((call.payload as Buffer).toString()).toBe('{"looks":"like json"}');
      expect(call.topic).toBe('plain/x');
      const packet = call.packet as IPublishPacket;
      expect(packet.cmd).toBe('publish');
      expect(packet.topic).toBe('plain/x');
      expect(packet.qos).toBe(2);
      // Without MQTT 5 properties the decorators give empty objects, not undefined.
      expect(h.calls.props[0].all).toEqual({});
    },
  );
});

async function waitForCall(h: ArgHandlers, name: string, count = 1): Promise<Call> {
  await until(`${count} call(s) of ${name}`, () => (h.calls[name]?.length ?? 0) >= count);
  return h.calls[name][0];
}

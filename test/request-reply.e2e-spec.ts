/**
 * MQTT 5 request/response: a handler's return value is published to the request's response
 * topic with its correlation data (byte-exact, checked from a raw MQTT 5 client), `undefined`
 * publishes nothing; `MqttService.request()` resolves with the reply, rejects on timeout, keeps
 * concurrent requests apart, and refuses clearly on MQTT 3.1.1.
 */
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import type { MqttClient } from 'mqtt';
import { MqttPublishError, MqttService, Payload, Subscribe, type MqttMessage } from 'nestjs-mqtt';
import { startMqttTestingApp } from 'nestjs-mqtt/testing';
import {
  closeClient,
  collectMessages,
  connectClient,
  delay,
  describeWithMosquitto,
  startMosquitto,
  startMqttApp,
  type MosquittoBroker,
} from './support';

@Injectable()
class Responder {
  constructor(private readonly mqtt: MqttService) {}

  /** A QoS 1 handler that asks another handler of the same app before it answers. */
  @Subscribe('rpc/chain', { qos: 1 })
  async chain(@Payload() body: { n: number }): Promise<unknown> {
    const inner = await this.mqtt.request('rpc/double', body, { timeout: 1500 });
    return { chained: JSON.parse(inner.payload.toString()) as unknown };
  }

  @Subscribe('rpc/double', { qos: 1 })
  double(@Payload() body: { n: number }): { result: number } {
    return { result: body.n * 2 };
  }

  @Subscribe('rpc/maybe', { qos: 1 })
  maybe(@Payload() text: string): string | undefined {
    return text === 'skip' ? undefined : `ok:${text}`;
  }

  @Subscribe('rpc/bytes', { qos: 1 })
  async reverse(payload: Buffer): Promise<Buffer> {
    await delay(1);
    return Buffer.from([...payload].reverse());
  }

  /** QoS 0 subscription with concurrency 2: a later, shorter request can finish first. */
  @Subscribe('rpc/slow', { concurrency: 2 })
  async slow(@Payload() body: { id: string; wait: number }): Promise<{ id: string }> {
    await delay(body.wait);
    return { id: body.id };
  }
}

describeWithMosquitto('MQTT 5 request/response (mosquitto)', () => {
  let broker: MosquittoBroker;
  let app: INestApplicationContext;
  let mqtt: MqttService;
  let raw: MqttClient;

  beforeAll(async () => {
    broker = await startMosquitto();
    ({ app, mqtt } = await startMqttApp({
      broker,
      options: { MQTT_PROTOCOL_VERSION: 'MQTTv5' },
      providers: [Responder],
    }));
    raw = await connectClient(broker.url, { protocolVersion: 5 });
  });

  afterAll(async () => {
    if (raw) await closeClient(raw);
    await app?.close();
    await broker?.stop();
  });

  it("a handler's return value goes to the response topic with the correlation data, byte-exact", async () => {
    const replies = await collectMessages(raw, 'raw/replies/json', { qos: 1 });
    const correlationData = Buffer.from([0, 0xff, 0x10, 0x80, 0x7f, 0]);
    await raw.publishAsync('rpc/double', JSON.stringify({ n: 21 }), {
      qos: 1,
      properties: { responseTopic: 'raw/replies/json', correlationData },
    });
    const [reply] = await replies.waitFor(1);
    replies.stop();
    expect(JSON.parse(reply.payload.toString())).toEqual({ result: 42 });
    expect(
      Buffer.from(reply.packet.properties?.correlationData ?? []).equals(correlationData),
    ).toBe(true);
  });

  it('a Buffer returned by a handler is the reply payload byte for byte', async () => {
    const replies = await collectMessages(raw, 'raw/replies/bytes', { qos: 1 });
    const request = Buffer.from([1, 2, 3, 0, 0xfe, 0xff]);
    const correlationData = Buffer.from('corr-bytes');
    await raw.publishAsync('rpc/bytes', request, {
      qos: 1,
      properties: { responseTopic: 'raw/replies/bytes', correlationData },
    });
    const [reply] = await replies.waitFor(1);
    replies.stop();
    expect(reply.payload.equals(Buffer.from([0xff, 0xfe, 0, 3, 2, 1]))).toBe(true);
    expect(Buffer.from(reply.packet.properties?.correlationData ?? []).toString()).toBe(
      'corr-bytes',
    );
  });

  it('returning undefined publishes nothing', async () => {
    const replies = await collectMessages(raw, 'raw/replies/maybe', { qos: 1 });
    const props = (c: string) => ({
      qos: 1 as const,
      properties: { responseTopic: 'raw/replies/maybe', correlationData: Buffer.from(c) },
    });
    await raw.publishAsync('rpc/maybe', 'skip', props('first'));
    await raw.publishAsync('rpc/maybe', 'go', props('second'));
    // Same handler, concurrency 1: the reply to "go" comes after whatever "skip" produced.
    await replies.waitFor(1);
    replies.stop();
    expect(
      replies.messages.map((m) => [
        m.payload.toString(),
        Buffer.from(m.packet.properties?.correlationData ?? []).toString(),
      ]),
    ).toEqual([['ok:go', 'second']]);
  });

  it('a QoS 1 handler can itself await MqttService.request() to another handler of the app', async () => {
    const replies = await collectMessages(raw, 'raw/replies/chain', { qos: 1 });
    await raw.publishAsync('rpc/chain', JSON.stringify({ n: 4 }), {
      qos: 1,
      properties: { responseTopic: 'raw/replies/chain', correlationData: Buffer.from('c') },
    });
    const [reply] = await replies.waitFor(1, 4000).finally(() => replies.stop());
    expect(JSON.parse(reply.payload.toString())).toEqual({ chained: { result: 8 } });
  });

  it('MqttService.request() resolves with the reply as an MqttMessage', async () => {
    const reply: MqttMessage = await mqtt.request('rpc/double', { n: 5 }, { timeout: 3000 });
    expect(JSON.parse(reply.payload.toString())).toEqual({ result: 10 });
    expect(reply.packet.properties?.correlationData).toBeDefined();
    expect(reply.topic).not.toBe('rpc/double');
  });

  it('MqttService.request() rejects after the timeout when nobody answers, naming the topic', async () => {
    const started = mqtt.request('rpc/nobody', 'anyone?', { timeout: 300 });
    await expect(started).rejects.toBeInstanceOf(MqttPublishError);
    await expect(started).rejects.toThrow('No reply to the request on "rpc/nobody" within 300 ms');
  });

  it('two concurrent requests each get their own reply, even when the replies come back swapped', async () => {
    const order: string[] = [];
    const ask = (id: string, wait: number) =>
      mqtt.request('rpc/slow', { id, wait }, { timeout: 5000 }).then((m) => {
        order.push(id);
        return JSON.parse(m.payload.toString()) as { id: string };
      });
    const [a, b] = await Promise.all([ask('a', 300), ask('b', 0)]);
    expect(a).toEqual({ id: 'a' });
    expect(b).toEqual({ id: 'b' });
    expect(order).toEqual(['b', 'a']);
  });
});

describe('request/response on MQTT 3.1.1 (aedes)', () => {
  it('MqttService.request() fails with a clear error mentioning MQTTv5', async () => {
    const kit = await startMqttTestingApp();
    try {
      const request = kit.mqtt.request('rpc/double', { n: 1 }, { timeout: 300 });
      await expect(request).rejects.toBeInstanceOf(MqttPublishError);
      await expect(request).rejects.toThrow(/MQTT 5.*MQTT_PROTOCOL_VERSION=MQTTv5/);
    } finally {
      await kit.close();
    }
  });
});

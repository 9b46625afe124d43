import type { IPublishPacket } from 'mqtt';
import type { MqttMessage } from '../interfaces/mqtt-message.interface';
import type { MqttPublishOptions } from '../interfaces/mqtt-service.interface';
import { MqttRequests, type MqttRequestTransport } from './mqtt-requests';

type InboxHandler = (payload: Buffer, topic: string, message: MqttMessage) => unknown;

/** A transport that records what is published and lets the test answer. */
function fakeTransport() {
  const published: Array<{ topic: string; options: MqttPublishOptions }> = [];
  let inbox: InboxHandler | undefined;
  let subscribes = 0;
  let publishImpl: () => Promise<void> = () => Promise.resolve();
  const transport: MqttRequestTransport = {
    publish: (topic, _payload, options) => {
      published.push({ topic, options });
      return publishImpl();
    },
    subscribe: (_filter, handler) => {
      subscribes++;
      inbox = handler;
      return Promise.resolve({ filter: _filter, unsubscribe: () => Promise.resolve() }) as never;
    },
  };
  const answer = (index: number, body = 'ok') => {
    const { options } = published[index];
    const packet = {
      topic: options.properties?.responseTopic,
      payload: Buffer.from(body),
      qos: 0,
      properties: { correlationData: options.properties?.correlationData },
    } as unknown as IPublishPacket;
    const message = { topic: packet.topic, payload: packet.payload, packet } as MqttMessage;
    inbox!(packet.payload as Buffer, packet.topic, message);
  };
  return {
    transport,
    published,
    answer,
    subscribes: () => subscribes,
    failPublishWith: (impl: () => Promise<void>) => (publishImpl = impl),
  };
}

describe('MqttRequests', () => {
  it('subscribes the inbox once, then resolves each request with its own reply', async () => {
    const fake = fakeTransport();
    const requests = new MqttRequests(fake.transport, 5);
    const first = requests.request('svc/a', 'x', { qos: 0 });
    await Promise.resolve();
    await Promise.resolve();
    expect(fake.published).toHaveLength(1);
    const second = requests.request('svc/b', 'y');
    expect(fake.published).toHaveLength(2);
    expect(fake.published[1].options).toMatchObject({ qos: 1 });
    fake.answer(1, 'two');
    fake.answer(0, 'one');
    expect((await first).payload.toString()).toBe('one');
    expect((await second).payload.toString()).toBe('two');
    expect(fake.subscribes()).toBe(1);
    expect(fake.published[0].options.properties?.responseTopic).toBe(requests.inbox);
  });

  it('rejects when the publish fails, whether it throws or rejects, and forgets the request', async () => {
    const fake = fakeTransport();
    const requests = new MqttRequests(fake.transport, 5);
    fake.failPublishWith(() => Promise.reject(new Error('offline queue full')));
    await expect(requests.request('svc/a', 'x')).rejects.toThrow('offline queue full');
    fake.failPublishWith(() => {
      throw new TypeError('bad payload');
    });
    await expect(requests.request('svc/a', 'x')).rejects.toThrow('bad payload');
    // A late reply to a failed request is ignored.
    expect(() => fake.answer(0)).not.toThrow();
  });

  it('times out with a text naming the topic, and rejects open requests on shutdown', async () => {
    jest.useFakeTimers();
    try {
      const fake = fakeTransport();
      const requests = new MqttRequests(fake.transport, 5);
      const slow = requests.request('svc/slow', 'x', { timeout: 50 });
      const timedOut = expect(slow).rejects.toThrow(/svc\/slow.*50 ms/);
      await jest.advanceTimersByTimeAsync(60);
      await timedOut;
      const open = requests.request('svc/open', 'x');
      await jest.advanceTimersByTimeAsync(0);
      requests.rejectAll(new Error('closed'));
      await expect(open).rejects.toThrow('closed');
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses MQTT 3.1.1 with a rejected promise, never a synchronous throw', async () => {
    const requests = new MqttRequests(fakeTransport().transport, 4);
    const result = requests.request('svc/a', 'x');
    await expect(result).rejects.toThrow(/MQTT 5/);
  });
});

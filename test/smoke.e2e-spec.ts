import { Injectable } from '@nestjs/common';
import { Payload, Subscribe, TopicParam } from 'nestjs-mqtt';
import { startMqttTestingApp } from 'nestjs-mqtt/testing';

@Injectable()
class Sensors {
  readonly seen: Array<{ id: string; body: unknown }> = [];
  @Subscribe('sensors/+id/temp', { qos: 1 })
  onTemp(@TopicParam('id') id: string, @Payload() body: unknown) {
    this.seen.push({ id, body });
  }
  @Subscribe('raw/#')
  onRaw(payload: Buffer, topic: string) {
    this.seen.push({ id: topic, body: payload });
  }
}

describe('smoke', () => {
  it('routes, publishes and closes', async () => {
    const kit = await startMqttTestingApp({ providers: [Sensors] });
    const { mqtt } = kit;
    expect(mqtt.connected).toBe(true);
    await mqtt.publish('sensors/a1/temp', { c: 21.5 }, { qos: 1 });
    await kit.settled({ handler: 'Sensors.onTemp', topic: 'sensors/a1/temp' });
    await mqtt.publish('raw/x/y', Buffer.from([1, 2, 3]));
    await kit.settled({ handler: 'Sensors.onRaw', topic: 'raw/x/y' });
    const got: string[] = [];
    await mqtt.subscribe('rt/+', (p, t) => {
      got.push(`${t}=${p.toString()}`);
    });
    await mqtt.publish('rt/1', 'hello', { qos: 1 });
    await kit.settled({ topic: 'rt/1' });
    const s = kit.get(Sensors);
    expect(s.seen).toEqual([
      { id: 'a1', body: { c: 21.5 } },
      { id: 'raw/x/y', body: Buffer.from([1, 2, 3]) },
    ]);
    expect(got).toEqual(['rt/1=hello']);
    expect(mqtt.topics.sort()).toEqual(['raw/#', 'rt/+', 'sensors/+/temp']);
    expect(kit.published().map((m) => m.topic)).toEqual(['sensors/a1/temp', 'raw/x/y', 'rt/1']);
    await kit.close();
    expect(mqtt.state).toBe('closed');
  });
});

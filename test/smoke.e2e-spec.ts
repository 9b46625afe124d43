import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MqttModule, MqttService, Payload, Subscribe, TopicParam } from 'nestjs-mqtt';
import { delay, startAedes, type AedesBroker } from './support';

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
  let broker: AedesBroker;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(() => broker.stop());

  it('routes, publishes and closes', async () => {
    const mod = await Test.createTestingModule({
      imports: [
        MqttModule.forRoot({ MQTT_BROKER_URL: '127.0.0.1', MQTT_BROKER_PORT: broker.port }),
      ],
      providers: [Sensors],
    }).compile();
    const app = await mod.init();
    const mqtt = app.get(MqttService);
    expect(mqtt.connected).toBe(true);
    await mqtt.publish('sensors/a1/temp', { c: 21.5 }, { qos: 1 });
    await mqtt.publish('raw/x/y', Buffer.from([1, 2, 3]));
    const got: string[] = [];
    await mqtt.subscribe('rt/+', (p, t) => {
      got.push(`${t}=${p.toString()}`);
    });
    await mqtt.publish('rt/1', 'hello', { qos: 1 });
    await delay(200);
    const s = app.get(Sensors);
    expect(s.seen).toEqual([
      { id: 'a1', body: { c: 21.5 } },
      { id: 'raw/x/y', body: Buffer.from([1, 2, 3]) },
    ]);
    expect(got).toEqual(['rt/1=hello']);
    expect(mqtt.topics.sort()).toEqual(['raw/#', 'rt/+', 'sensors/+/temp']);
    await app.close();
    expect(mqtt.state).toBe('closed');
  });
});

/**
 * A handler blocked for longer than 1.5 x MQTT_KEEPALIVE must not cost the connection: the
 * client never stops reading the socket for a busy handler, so PINGRESPs are always seen and no
 * "Keepalive timeout" and reconnect follow; the broker keeps hearing PINGREQs from the client.
 */
import { Injectable } from '@nestjs/common';
import { Subscribe } from 'nestjs-mqtt';
import {
  closeClient,
  connectClient,
  startAedes,
  startMqttApp,
  until,
  type AedesBroker,
  type MqttTestApp,
} from './support';

/** Blocks on its first message until released, so its queue fills up. */
@Injectable()
class Gate {
  handled = 0;
  private release!: () => void;
  readonly released = new Promise<void>((resolve) => (this.release = resolve));

  @Subscribe('ka/load')
  async onLoad(): Promise<void> {
    await this.released;
    this.handled++;
  }

  open(): void {
    this.release();
  }
}

describe('keepalive while a handler is blocked', () => {
  let broker: AedesBroker;
  let started: MqttTestApp | undefined;

  beforeAll(async () => {
    broker = await startAedes();
  });
  afterEach(async () => {
    await started?.app.close();
    started = undefined;
  });
  afterAll(() => broker.stop());

  it('a handler blocked for 3 x MQTT_KEEPALIVE keeps the connection, and every message is handled', async () => {
    started = await startMqttApp({
      broker,
      options: { MQTT_KEEPALIVE: 1, MQTT_QOS0_QUEUE_LIMIT: 100 },
      providers: [Gate],
    });
    const { mqtt, events } = started;
    const gate = started.app.get(Gate);

    const publisher = await connectClient(broker.url);
    try {
      for (let i = 0; i < 50; i++) await publisher.publishAsync('ka/load', `m${i}`, { qos: 0 });
      const blockedAt = Date.now();
      // 3 s is twice MQTT.js's keepalive timeout (1.5 x 1 s) and twice aedes's, which drops a
      // client it has not heard from in 1.5 x keepalive: so PINGREQs must keep going out too.
      await until('3 s blocked', () => Date.now() - blockedAt >= 3000, 5000);

      expect(events.filter((e) => e.type === 'offline' || e.type === 'error')).toEqual([]);
      expect(mqtt.state).toBe('connected');
      expect(gate.handled).toBe(0);

      gate.open();
      await until('all 50 messages handled', () => gate.handled === 50, 10_000);
      expect(events.filter((e) => e.type === 'connect')).toHaveLength(1);
    } finally {
      await closeClient(publisher);
    }
  });
});

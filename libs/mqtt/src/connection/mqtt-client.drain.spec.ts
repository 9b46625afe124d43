import { MqttClient } from 'mqtt';
import { batchDrainCallbacks } from './mqtt-client.internals';
import { fakeBrokerPerTest } from './mqtt-client.spec-helpers';

/**
 * batchDrainCallbacks replaces MQTT.js's `_writePacket` with the same steps and one `drain`
 * listener per socket. If MQTT.js's own `_writePacket` changes, the first test fails: compare
 * the new one with batchDrainCallbacks in mqtt-client.internals.ts before updating it here.
 */
const MQTT_JS_WRITE_PACKET = `_writePacket(packet, cb) {
  this.log('_writePacket :: packet: %O', packet);
  this.log('_writePacket :: emitting \`packetsend\`');
  this.emit('packetsend', packet);
  this.log('_writePacket :: writing to stream');
  const result = mqtt_packet_1.default.writeToStream(packet, this.stream, this.options);
  this.log('_writePacket :: writeToStream result %s', result);
  if (!result && cb && cb !== this.noop) {
  this.log('_writePacket :: handle events on \`drain\` once through callback.');
  this.stream.once('drain', cb);
  }
  else if (cb) {
  this.log('_writePacket :: invoking cb');
  cb();
  }
  }`;

const lines = (source: string) =>
  source
    .split('\n')
    .map((line) => line.trim())
    .join('\n  ');

describe('batchDrainCallbacks (one drain listener per socket)', () => {
  const broker = fakeBrokerPerTest();
  const connected = (patch: boolean) =>
    broker.connected({ clientId: 'drain', reconnectPeriod: 0 }, (c) => {
      if (patch) batchDrainCallbacks(c);
    });

  /** Publishes `n` QoS 0 messages of 1 KiB with the socket corked; records callbacks in order. */
  function burst(c: MqttClient, n: number): { done: number[]; all: Promise<void> } {
    const done: number[] = [];
    c.stream.cork();
    const all = Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<void>((resolve) =>
            c.publish('t', Buffer.alloc(1024, i), { qos: 0 }, () => (done.push(i), resolve())),
          ),
      ),
    ).then(() => undefined);
    return { done, all };
  }

  it("MQTT.js's own _writePacket is the one batchDrainCallbacks replaces", () => {
    const own = (MqttClient.prototype as unknown as { _writePacket: () => void })._writePacket;
    expect(lines(own.toString())).toBe(lines(MQTT_JS_WRITE_PACKET));
  });

  it('MQTT.js alone adds one drain listener per write that waits (drop the patch once this fails)', async () => {
    const c = await connected(false);
    const { all } = burst(c, 64);
    expect(c.stream.listenerCount('drain')).toBeGreaterThan(40);
    c.stream.uncork();
    await all;
  });

  it('with it, one listener; every callback runs once the socket drains, in write order', async () => {
    const c = await connected(true);
    const sent: string[] = [];
    c.on('packetsend', (p) => sent.push(p.cmd));
    const { done, all } = burst(c, 64);
    expect(c.stream.listenerCount('drain')).toBeLessThanOrEqual(1);
    const waiting = 64 - done.length;
    expect(waiting).toBeGreaterThan(40); // the 16 KiB buffer took the first ones
    c.stream.uncork();
    await all;
    expect(done).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(sent.filter((cmd) => cmd === 'publish')).toHaveLength(64);
    await broker.fake.waitFor('all 64 PUBLISHes', () => broker.fake.sent('publish').length === 64);
    // A second burst after the first drained gets a listener of its own.
    const again = burst(c, 64);
    expect(c.stream.listenerCount('drain')).toBeLessThanOrEqual(1);
    c.stream.uncork();
    await again.all;
    expect(again.done).toEqual(Array.from({ length: 64 }, (_, i) => i));
  });
});

/** Helpers of the MQTT.js contract specs (not part of the package: excluded from its build). */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import {
  startFakeBroker,
  type FakeBroker,
  type FakeBrokerOptions,
} from '../../../../test/support/fake-broker';
import { until } from '../../../../test/support/wait';
import { stopReconnecting } from './mqtt-client.internals';

/** What a spec gets from {@link fakeBrokerPerTest}. */
export interface FakeBrokerPerTest {
  /** This test's fake broker. */
  readonly fake: FakeBroker;
  /** Connects a client to it (`prepare` runs before the CONNACK) and waits for the CONNACK. */
  connected(options: IClientOptions, prepare?: (client: MqttClient) => void): Promise<MqttClient>;
}

/**
 * A fake broker for each test of the calling `describe`, and every client the test connected,
 * ended after it (reconnecting stopped first).
 */
export function fakeBrokerPerTest(options?: FakeBrokerOptions): FakeBrokerPerTest {
  let fake: FakeBroker | undefined;
  const clients: MqttClient[] = [];
  beforeEach(async () => {
    fake = await startFakeBroker(options);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) {
      stopReconnecting(c);
      if (c.stream) await c.endAsync(true);
    }
    await fake?.stop();
  });
  return {
    get fake() {
      if (!fake) throw new Error('fakeBrokerPerTest: no test is running');
      return fake;
    },
    async connected(clientOptions, prepare) {
      const c = connect(`mqtt://127.0.0.1:${this.fake.port}`, clientOptions);
      c.on('error', () => undefined);
      prepare?.(c);
      clients.push(c);
      await until('CONNACK', () => c.connected);
      return c;
    },
  };
}

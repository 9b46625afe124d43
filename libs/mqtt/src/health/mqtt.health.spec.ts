import { judgeMqttStatus } from './mqtt.health';
import type { MqttStatus } from '../interfaces/mqtt-service.interface';

const NOW = Date.parse('2026-01-01T12:00:00.000Z');
const status = (over: Partial<MqttStatus> = {}): MqttStatus => ({
  name: 'default',
  state: 'connected',
  broker: 'mqtt://broker:1883',
  connectedSince: new Date(NOW - 10_000),
  reconnectAttempts: 0,
  ...over,
});

describe('judgeMqttStatus', () => {
  it('connected: no problem, connectedSince as ISO text', () => {
    expect(judgeMqttStatus(status(), {}, NOW)).toEqual({
      connected: true,
      state: 'connected',
      broker: 'mqtt://broker:1883',
      connectedSince: '2026-01-01T11:59:50.000Z',
      reconnectAttempts: 0,
    });
  });

  it('not connected: a problem naming the broker and the state, no connectedSince', () => {
    const judged = judgeMqttStatus(
      status({ state: 'reconnecting', reconnectAttempts: 3, lastError: 'ECONNREFUSED' }),
      {},
      NOW,
    );
    expect(judged).toMatchObject({
      connected: false,
      reconnectAttempts: 3,
      lastError: 'ECONNREFUSED',
    });
    expect(judged.problem).toBe('not connected to mqtt://broker:1883 (state reconnecting)');
    expect(judged.connectedSince).toBeUndefined();
  });

  it('maxMessageAge: reports the age, judges it only when asked', () => {
    const s = status({ lastMessageAt: new Date(NOW - 5000) });
    expect(judgeMqttStatus(s, {}, NOW)).toMatchObject({ lastMessageAgeMs: 5000 });
    expect(judgeMqttStatus(s, {}, NOW).problem).toBeUndefined();
    expect(judgeMqttStatus(s, { maxMessageAge: 5000 }, NOW).problem).toBeUndefined();
    expect(judgeMqttStatus(s, { maxMessageAge: 4999 }, NOW).problem).toBe(
      'last message received 5000 ms ago, more than maxMessageAge 4999 ms',
    );
  });

  it('maxMessageAge with no message yet: counted from the connection', () => {
    expect(judgeMqttStatus(status(), { maxMessageAge: 20_000 }, NOW).problem).toBeUndefined();
    expect(judgeMqttStatus(status(), { maxMessageAge: 9000 }, NOW).problem).toBe(
      'no message received in the 10000 ms since connecting, more than maxMessageAge 9000 ms',
    );
  });
});

import { Logger } from '@nestjs/common';
import { parseMqttConfig } from '../config/mqtt-config.parse';
import type { MqttEvent } from '../interfaces/mqtt-service.interface';
import { MqttEventBus } from '../mqtt-event-bus';
import { ConnectionHealth } from './connection-health';

describe('ConnectionHealth', () => {
  let bus: MqttEventBus;
  let lines: string[];
  let health: ConnectionHealth;

  beforeEach(() => {
    jest.useFakeTimers();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    bus = new MqttEventBus('default');
    bus.listenersReady();
    lines = [];
    bus.events$.subscribe((e: MqttEvent) => {
      if (e.type === 'log') lines.push(`${e.level}: ${e.message}`);
    });
    const { config } = parseMqttConfig({ MQTT_RECONNECT_PERIOD: 1 });
    health = new ConnectionHealth(bus, config, () => 'mqtt://broker-a:1883');
  });
  afterEach(() => {
    health.stopSummary();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('logs one error line per outage, then a summary a minute while it lasts', () => {
    health.connected(false);
    health.offline('mqtt://broker-a:1883');
    health.failed('the broker refused: not authorized');
    health.logError(new Error('connack timeout'));
    health.logError(new Error('connack timeout'));
    expect(health.reconnecting()).toBe(1);
    expect(health.reconnecting()).toBe(2);
    expect(lines.filter((l) => l.startsWith('error'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(1); // the offline warning
    jest.advanceTimersByTime(60_000);
    const summary = lines.at(-1)!;
    expect(summary).toMatch(/^warn: /);
    expect(summary).toContain('2'); // the attempts so far
    expect(summary).toContain('the broker refused: not authorized');
    // Back: attempts start over, the summaries stop, the next outage logs its error again.
    health.connected(true);
    const before = lines.length;
    jest.advanceTimersByTime(180_000);
    expect(lines).toHaveLength(before);
    health.logError(new Error('gone again'));
    expect(lines.at(-1)).toMatch(/^error: .*gone again/);
    expect(health.snapshot(true)).toMatchObject({ reconnectAttempts: 0, sessionPresent: true });
  });

  it('reports what status() shows; connectedSince only while connected', () => {
    health.connected(true);
    health.disconnected(0x8b, 'server shutting down');
    const up = health.snapshot(true);
    expect(up).toMatchObject({ broker: 'mqtt://broker-a:1883', sessionPresent: true });
    expect(up.connectedSince).toBeInstanceOf(Date);
    expect(up.lastError).toBe(lines.at(-1)!.replace(/^warn: /, ''));
    expect(health.snapshot(false).connectedSince).toBeUndefined();
  });

  it('reads the clock once per burst of messages', () => {
    const now = jest.spyOn(Date, 'now');
    health.messageArrived();
    health.messageArrived();
    health.messageArrived();
    expect(now).toHaveBeenCalledTimes(1);
    jest.runOnlyPendingTimers(); // the check phase: the next burst reads it again
    health.messageArrived();
    expect(now).toHaveBeenCalledTimes(2);
    expect(health.snapshot(true).lastMessageAt).toBeInstanceOf(Date);
  });
});

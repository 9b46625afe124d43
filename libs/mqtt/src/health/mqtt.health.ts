import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { MqttStatus } from '../interfaces/mqtt-service.interface';
import type { MqttService } from '../mqtt.service';
import { DEFAULT_MQTT_CONNECTION, getMqttServiceToken } from '../mqtt.tokens';
import * as messages from './mqtt-health.messages';

/** Options of {@link MqttHealthIndicator.isHealthy}. */
export interface MqttHealthOptions {
  /**
   * The connections to report, by name (`MqttModule.forRoot({ name })`); the result is `down`
   * when any of them is.
   * @default ['default']
   */
  readonly connections?: readonly string[];
  /**
   * The connection is reported `down` when its last message was received longer ago than this
   * (milliseconds), or, when none came yet, when it has been connected longer than this without
   * one. For apps that expect steady traffic (sensors reporting every few seconds).
   * @default undefined (the age of the last message is reported, never judged)
   */
  readonly maxMessageAge?: number;
}

/** What the indicator reports for one connection, under its name. */
export interface MqttConnectionHealth {
  readonly connected: boolean;
  /** `idle`, `connecting`, `connected`, `offline`, `reconnecting` or `closed`. */
  readonly state: string;
  /** The broker URL (no credentials). */
  readonly broker: string;
  /** ISO time of the current connection's CONNACK; absent while not connected. */
  readonly connectedSince?: string;
  /** Reconnect attempts since the connection was last up. */
  readonly reconnectAttempts: number;
  /** The last connection error's message. */
  readonly lastError?: string;
  /** Milliseconds since the last message was received; absent when none was. */
  readonly lastMessageAgeMs?: number;
  /** Why the connection counts as down, when it does. */
  readonly problem?: string;
}

/** Judges one connection's `status()`; exported for unit tests. */
export function judgeMqttStatus(
  status: MqttStatus,
  options: MqttHealthOptions,
  now: number,
): MqttConnectionHealth {
  const connected = status.state === 'connected';
  const since = status.connectedSince;
  const last = status.lastMessageAt;
  const age = last ? Math.max(0, now - last.getTime()) : undefined;
  let problem: string | undefined;
  if (!connected) {
    problem = `not connected to ${status.broker} (state ${status.state})`;
  } else if (options.maxMessageAge !== undefined) {
    const limit = options.maxMessageAge;
    if (age !== undefined && age > limit) {
      problem = `last message received ${age} ms ago, more than maxMessageAge ${limit} ms`;
    } else if (age === undefined && since && now - since.getTime() > limit) {
      problem = `no message received in the ${now - since.getTime()} ms since connecting, more than maxMessageAge ${limit} ms`;
    }
  }
  return {
    connected,
    state: status.state,
    broker: status.broker,
    ...(since && connected && { connectedSince: since.toISOString() }),
    reconnectAttempts: status.reconnectAttempts,
    ...(status.lastError !== undefined && { lastError: status.lastError }),
    ...(age !== undefined && { lastMessageAgeMs: age }),
    ...(problem && { problem }),
  };
}

/**
 * A health indicator for `@nestjs/terminus`: `up` while the MQTT connection is connected (and,
 * with `maxMessageAge`, messages keep coming), `down` otherwise, with the details of the
 * connection. Add it to the providers of the module of your health controller, next to
 * `TerminusModule`.
 *
 * @example
 * // in a controller with `health: HealthCheckService` and `mqtt: MqttHealthIndicator`:
 * return this.health.check([() => this.mqtt.isHealthy('mqtt', { maxMessageAge: 60_000 })]);
 */
@Injectable()
export class MqttHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /**
   * Reports the connections under `key`: `{ [key]: { status: 'up' | 'down', connections: {
   * [name]: MqttConnectionHealth } } }`.
   * @param key @default 'mqtt'
   */
  isHealthy<const Key extends string = 'mqtt'>(
    key: Key = 'mqtt' as Key,
    options: MqttHealthOptions = {},
  ): HealthIndicatorResult<Key> {
    const session = this.indicator.check(key);
    const now = Date.now();
    const connections: Record<string, MqttConnectionHealth> = {};
    for (const name of options.connections ?? [DEFAULT_MQTT_CONNECTION]) {
      const service = this.service(name);
      connections[name] = service
        ? judgeMqttStatus(service.status(), options, now)
        : {
            connected: false,
            state: 'unknown',
            broker: 'none',
            reconnectAttempts: 0,
            problem: messages.UNKNOWN_CONNECTION(name),
          };
    }
    const down = Object.values(connections).some((c) => c.problem !== undefined);
    return down ? session.down({ connections }) : session.up({ connections });
  }

  private service(name: string): MqttService | undefined {
    try {
      return this.moduleRef.get<MqttService>(getMqttServiceToken(name), { strict: false });
    } catch {
      return undefined;
    }
  }
}

/**
 * The parts of the issue 8 contract (COMMON.md) that the fault suite reads and that the
 * MqttService of this branch may not have yet: `status()` and `stats()`. Each accessor fails with
 * a clear message while the method is missing, instead of a TypeError deep in a test.
 */
import type { MqttConnectionState, MqttService } from 'nestjs-mqtt';

/** `MqttService.status()` as the contract describes it. */
export interface MqttStatusContract {
  readonly name: string;
  readonly state: MqttConnectionState;
  readonly broker: string;
  readonly connectedSince?: unknown;
  readonly reconnectAttempts: number;
  readonly lastError?: unknown;
  readonly lastMessageAt?: unknown;
  readonly sessionPresent?: boolean;
}

/** One handler's figures in `MqttService.stats()`. */
export interface MqttHandlerStatsContract {
  readonly name: string;
  readonly filters: readonly string[];
  readonly handled: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly running: number;
  readonly queued: number;
}

/** `MqttService.stats()` as the contract describes it. */
export interface MqttStatsContract {
  readonly received: number;
  readonly published: number;
  readonly dropped: number;
  readonly handlers: readonly MqttHandlerStatsContract[];
}

function contractMethod<T>(mqtt: MqttService, name: 'status' | 'stats'): T {
  const method = (mqtt as unknown as Record<string, unknown>)[name];
  if (typeof method !== 'function') {
    throw new Error(
      `MqttService.${name}() does not exist yet: it is part of the issue 8 contract ` +
        '(COMMON.md); this assertion needs it.',
    );
  }
  return (method as () => T).call(mqtt);
}

/** `mqtt.status()`, or a clear error while the method does not exist. */
export function statusOf(mqtt: MqttService): MqttStatusContract {
  return contractMethod<MqttStatusContract>(mqtt, 'status');
}

/** `mqtt.stats()`, or a clear error while the method does not exist. */
export function statsOf(mqtt: MqttService): MqttStatsContract {
  return contractMethod<MqttStatsContract>(mqtt, 'stats');
}

/** The stats of the handler whose name contains `name` (e.g. the method name). */
export function handlerStats(mqtt: MqttService, name: string): MqttHandlerStatsContract {
  const stats = statsOf(mqtt);
  const found = stats.handlers.find((h) => h.name.includes(name));
  if (!found) {
    throw new Error(
      `stats() has no handler named like "${name}"; it has: ` +
        stats.handlers.map((h) => h.name).join(', '),
    );
  }
  return found;
}

/**
 * MqttModule.forRoot() options with keys this branch's types may not know yet (the new MQTT_*
 * keys of the contract). The module validates them at run time either way: unknown keys are a
 * warning today and the real thing once the contract lands.
 */
export type ContractOptions = Record<string, string | number | boolean>;

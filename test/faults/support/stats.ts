import type { MqttHandlerStats, MqttService } from 'nestjs-mqtt';

/**
 * One handler's counters from `mqtt.stats()`, found by (part of) its name, e.g. the method name;
 * throws naming the handlers there are when none matches.
 */
export function handlerStats(mqtt: MqttService, name: string): MqttHandlerStats {
  const { handlers } = mqtt.stats();
  const found = handlers.find((h) => h.name.includes(name));
  if (!found) {
    throw new Error(
      `stats() has no handler named like "${name}"; it has: ${handlers.map((h) => h.name).join(', ')}`,
    );
  }
  return found;
}

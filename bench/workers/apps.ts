/**
 * What the benchmark apps (module-app.ts, nest-app.ts, the request/reply workers) share: quiet
 * logging, the broker URL's parts, and classes with many "other" handler methods.
 */
import type { LogLevel, Type } from '@nestjs/common';
import type { MqttClient } from 'mqtt';

/** Log levels of the benchmark apps: quiet, but failures still show. */
export const LOG_LEVELS: LogLevel[] = ['error', 'warn'];

/** Host and port of an `mqtt://host:port` URL. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 1883) };
}

/** Counts the messages that reached one of the "other" handlers (there should be none). */
export const strayCounter = { count: 0 };

/**
 * Classes with `filters.length` handler methods in all, `perClass` per class, each decorated with
 * `decorate(filter)`; the methods count stray messages.
 */
export function handlerClasses(
  filters: readonly string[],
  perClass: number,
  decorate: (filter: string) => MethodDecorator,
  classDecorator: ClassDecorator,
  prefix: string,
): Type[] {
  const classes: Type[] = [];
  for (let start = 0; start < filters.length; start += perClass) {
    const cls = class {};
    Object.defineProperty(cls, 'name', { value: `${prefix}${classes.length}` });
    const end = Math.min(filters.length, start + perClass);
    for (let i = start; i < end; i++) {
      const name = `onOther${i}`;
      Object.defineProperty(cls.prototype, name, {
        value: function onOther(): void {
          strayCounter.count++;
        },
        writable: true,
        configurable: true,
        enumerable: false,
      });
      const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, name)!;
      decorate(filters[i])(cls.prototype, name, descriptor);
    }
    classDecorator(cls);
    classes.push(cls);
  }
  return classes;
}

/** The level of the `+` wildcard in a filter: where a device id is in a matching topic. */
export function wildcardLevel(filter: string): number {
  return filter.split('/').indexOf('+');
}

/**
 * Turns Nagle's algorithm off on a raw MQTT.js client's socket, as `nestjs-mqtt` does on every
 * connect, so the raw request/reply contestants do the same exchange (MQTT.js leaves it on: a
 * QoS 1 reply then waits ~40 ms for the ACK of the PUBACK written before it).
 * BENCH_RAW_NODELAY=0 keeps MQTT.js's default.
 */
export function noDelay(client: MqttClient): void {
  if (process.env.BENCH_RAW_NODELAY === '0') return;
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
}

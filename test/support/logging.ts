import type { LoggerService } from '@nestjs/common';
import { inspect } from 'node:util';

import { until } from './wait';

/** A Nest log level. */
export type LogLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';

/** The logger context of the MQTT module's own lines. */
const MQTT_CONTEXT = 'MqttModule';

/** One call of a {@link CaptureLogger} method, seen four ways. */
export interface LogLine {
  readonly level: LogLevel;
  /** The message: a string as given, an Error's message, anything else as JSON. */
  readonly message: string;
  /**
   * The logger context (`MqttModule`, `ExceptionHandler`, ...): the last argument, when it is a
   * string. Nest's `Logger` instances always pass theirs last.
   */
  readonly context?: string;
  /**
   * The message and the other arguments but the context, one per line, `undefined` ones left
   * out; an Error as its message and stack, anything else but a string as JSON.
   */
  readonly text: string;
  /**
   * Every argument, the context included, through `util.inspect` (depth 5), joined by spaces:
   * the widest view of the call, for checks that something (a password) was never logged.
   */
  readonly inspected: string;
}

/** A value as one piece of text; JSON.stringify failing (a cycle) falls back to `util.inspect`. */
function asJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return inspect(value);
  }
}

function messageOf(message: unknown): string {
  if (message instanceof Error) return message.message;
  return typeof message === 'string' ? message : asJson(message);
}

function textOf(value: unknown): string {
  if (value instanceof Error) return `${value.message}\n${value.stack ?? ''}`;
  return typeof value === 'string' ? value : asJson(value);
}

/**
 * A Nest LoggerService that prints nothing and keeps every line (level, message, context and
 * the full text), so tests can assert on what the module and Nest logged. Give it to
 * `Test.createTestingModule(...).setLogger()`, `NestFactory.create*(..., { logger })`, or
 * `compileMqttApp` / `startMqttApp` (which make one by default).
 */
export class CaptureLogger implements LoggerService {
  /** Every line so far, in order (a live array). */
  readonly lines: LogLine[] = [];

  // One recorder per level (LoggerService), as bound arrow functions.
  log = (message: unknown, ...params: unknown[]) => this.record('log', message, params);
  error = (message: unknown, ...params: unknown[]) => this.record('error', message, params);
  warn = (message: unknown, ...params: unknown[]) => this.record('warn', message, params);
  debug = (message: unknown, ...params: unknown[]) => this.record('debug', message, params);
  verbose = (message: unknown, ...params: unknown[]) => this.record('verbose', message, params);
  fatal = (message: unknown, ...params: unknown[]) => this.record('fatal', message, params);

  /** The messages of the module's own lines (context `MqttModule`), only at `level` if given. */
  mqtt(level?: LogLevel): string[] {
    return this.lines
      .filter((l) => l.context === MQTT_CONTEXT && (level === undefined || l.level === level))
      .map((l) => l.message);
  }

  /** The lines at `level` (any context), only those whose message matches `pattern` if given. */
  at(level: LogLevel, pattern?: RegExp): LogLine[] {
    return this.lines.filter((l) => l.level === level && (!pattern || pattern.test(l.message)));
  }

  /** The lines (any level and context) whose `text` contains `needle`. */
  matching(needle: string): LogLine[] {
    return this.lines.filter((l) => l.text.includes(needle));
  }

  /**
   * Resolves with the first line whose message matches `pattern` (at `level`, if given) once
   * there is one; rejects after `timeout` ms with the last lines seen.
   */
  waitFor(pattern: RegExp, level?: LogLevel, timeout = 5000): Promise<LogLine> {
    return until(
      `a log line matching ${pattern}${level ? ` at level ${level}` : ''}`,
      () => this.lines.find((l) => pattern.test(l.message) && (!level || l.level === level)),
      timeout,
      () => this.lines.map((l) => `${l.level}: ${l.message}`).slice(-10),
    );
  }

  private record(level: LogLevel, message: unknown, params: unknown[]): void {
    const last = params[params.length - 1];
    const context = typeof last === 'string' ? last : undefined;
    const extra = params
      .slice(0, context === undefined ? params.length : -1)
      .filter((p) => p !== undefined)
      .map(textOf);
    this.lines.push({
      level,
      message: messageOf(message),
      context,
      text: [textOf(message), ...extra].join('\n'),
      inspected: [message, ...params].map((p) => inspect(p, { depth: 5 })).join(' '),
    });
  }
}

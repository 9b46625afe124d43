import { Logger } from '@nestjs/common';
import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import type { MqttConnectionState, MqttEvent } from './interfaces/mqtt-service.interface';
import { MQTT_LOGGER_CONTEXT } from './mqtt.constants';

/**
 * The one place a connection's log lines, events and state go through: every log line is also an
 * `{ type: 'log' }` event, so `@OnMqttLog()` sees all of them. One bus per connection.
 */
export class MqttEventBus {
  private readonly logger: Logger;
  private readonly stateSubject = new BehaviorSubject<MqttConnectionState>('idle');
  private readonly eventSubject = new Subject<MqttEvent>();

  private readonly named: boolean;
  /** Lines logged before the `@OnMqttLog()` listeners exist, until `listenersReady()`. */
  private held: Array<{ level: 'log' | 'warn'; message: string }> | undefined = [];

  constructor(readonly connectionName: string) {
    this.named = connectionName !== 'default';
    this.logger = new Logger(
      connectionName === 'default'
        ? MQTT_LOGGER_CONTEXT
        : `${MQTT_LOGGER_CONTEXT}:${connectionName}`,
    );
  }

  get state(): MqttConnectionState {
    return this.stateSubject.value;
  }

  get state$(): Observable<MqttConnectionState> {
    return this.stateSubject.asObservable();
  }

  get events$(): Observable<MqttEvent> {
    return this.eventSubject.asObservable();
  }

  /** Whether anyone listens to the events (so per-message events can be skipped). */
  get observed(): boolean {
    return this.eventSubject.observed;
  }

  get closed(): boolean {
    return this.stateSubject.closed;
  }

  log(level: 'log' | 'warn' | 'error' | 'debug', message: string): void {
    this.logger[level](message);
    if (level !== 'debug') this.emit({ type: 'log', level, message });
  }

  /**
   * Logs a line found before anyone could listen (at DI time, such as a configuration warning)
   * once the `@OnMqttLog()` listeners are in place: now if they are, else when
   * `listenersReady()` is called. Through `log()` either way, so Nest's logger and the listeners
   * each get it exactly once.
   */
  logWhenListened(level: 'log' | 'warn', message: string): void {
    if (this.held) this.held.push({ level, message });
    else this.log(level, message);
  }

  /** Called once the `@OnMqttLog()` listeners are registered (before connecting). */
  listenersReady(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const { level, message } of held) this.log(level, message);
  }

  /** Logs without a `log` event: for failures of event listeners, which must not loop. */
  logQuietly(level: 'warn' | 'error', message: string): void {
    this.logger[level](message);
  }

  emit(event: MqttEvent): void {
    if (this.eventSubject.closed) return;
    // Events of a named connection say which; the default connection's stay as they are.
    this.eventSubject.next(this.named ? { ...event, connection: this.connectionName } : event);
  }

  setState(state: MqttConnectionState): void {
    if (this.stateSubject.value !== state && !this.stateSubject.closed) {
      this.stateSubject.next(state);
    }
  }

  /** Ends both streams (after shutdown). */
  complete(): void {
    this.setState('closed');
    this.stateSubject.complete();
    this.eventSubject.complete();
  }
}

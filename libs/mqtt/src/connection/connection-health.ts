import type { MqttConfig } from '../interfaces/mqtt-config.interface';
import type { MqttStatus } from '../interfaces/mqtt-service.interface';
import * as messages from '../mqtt.messages';
import type { MqttEventBus } from '../mqtt-event-bus';

/** How often a summary is logged while the broker stays unreachable. */
const SUMMARY_EVERY_MS = 60_000;

/**
 * What `MqttService.status()` reports of one connection (since when it is up, reconnect
 * attempts, the last error, the last message), and how an outage is told: one error line, the
 * offline warning, then a summary a minute while it lasts. The connection tells it what happens;
 * it never touches MQTT.js.
 */
export class ConnectionHealth {
  private connectedSince?: Date;
  private attempts = 0;
  private lastError?: string;
  private lastMessageAt?: number;
  private sessionPresent?: boolean;
  /** Whether this outage's error line was logged. */
  private errorLogged = false;
  private summaryTimer?: NodeJS.Timeout;
  /** One clock read per burst: cleared in the event loop's check phase, after a read's packets. */
  private stamped = false;
  private readonly unstamp = (): boolean => (this.stamped = false);

  constructor(
    private readonly bus: MqttEventBus,
    private readonly config: MqttConfig,
    /** The broker in use now (with a list, the one MQTT.js tries). */
    private readonly broker: () => string,
  ) {}

  /** A message arrived. */
  messageArrived(): void {
    if (this.stamped) return;
    this.stamped = true;
    this.lastMessageAt = Date.now();
    setImmediate(this.unstamp);
  }

  /** A CONNACK accepted the connection: the outage, if any, is over. */
  connected(sessionPresent: boolean): void {
    this.errorLogged = false;
    this.attempts = 0;
    this.connectedSince = new Date();
    this.sessionPresent = sessionPresent;
    this.stopSummary();
  }

  /** MQTT.js starts another attempt; returns its number. */
  reconnecting(): number {
    return ++this.attempts;
  }

  /** The broker sent DISCONNECT. */
  disconnected(reasonCode: number, reason: string | undefined): void {
    this.lastError = messages.BROKER_DISCONNECT(reasonCode, reason);
    this.bus.log('warn', this.lastError);
  }

  /** The client reported an error, described as `text` (status().lastError). */
  failed(text: string): void {
    this.lastError = text;
  }

  /** Logs the client's error, once per outage (the periodic summary tells the rest). */
  logError(error: Error): void {
    if (this.errorLogged) return;
    this.bus.log('error', messages.CLIENT_ERROR(this.broker(), error.message));
    this.errorLogged = true;
  }

  /** The connection was lost (or ended without reconnecting). */
  offline(url: string): void {
    const { bus, config } = this;
    bus.log(
      'warn',
      messages.OFFLINE(this.broker(), config.reconnectPeriod, config.reconnectMaxPeriod),
    );
    bus.setState('offline');
    bus.emit({ type: 'offline' });
    if (config.reconnectPeriod > 0 && !this.summaryTimer) {
      const since = Date.now();
      this.summaryTimer = setInterval(() => {
        bus.log(
          'warn',
          messages.STILL_OFFLINE(url, Date.now() - since, this.attempts, this.lastError),
        );
      }, SUMMARY_EVERY_MS);
      this.summaryTimer.unref();
    }
  }

  /** Shutdown: no more summaries. */
  stopSummary(): void {
    clearInterval(this.summaryTimer);
    this.summaryTimer = undefined;
  }

  snapshot(connected: boolean): Omit<MqttStatus, 'name'> {
    return {
      state: this.bus.state,
      broker: this.broker(),
      connectedSince: connected ? this.connectedSince : undefined,
      reconnectAttempts: this.attempts,
      lastError: this.lastError,
      lastMessageAt: this.lastMessageAt !== undefined ? new Date(this.lastMessageAt) : undefined,
      sessionPresent: this.sessionPresent,
    };
  }
}

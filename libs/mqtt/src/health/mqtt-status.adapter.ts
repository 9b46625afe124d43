import type { MqttConnectionState } from '../interfaces/mqtt-service.interface';
import type { MqttService } from '../mqtt.service';

/**
 * The connection status as `MqttService.status()` reports it (the contract of issue 9/10).
 * Dates may come as Date, epoch milliseconds or ISO text; the indicator accepts each.
 */
export interface MqttStatusSnapshot {
  readonly name: string;
  readonly state: MqttConnectionState;
  readonly broker: string;
  readonly connectedSince?: Date | number | string;
  readonly reconnectAttempts: number;
  readonly lastError?: Error | string | { readonly message: string };
  readonly lastMessageAt?: Date | number | string;
  readonly sessionPresent?: boolean;
}

/**
 * TEMPORARY, until `MqttService.status()` is on main: derives the same snapshot from the
 * service's public `state$`, `events$` and MQTT.js client events. It must be created before the
 * app connects (the health indicator is built during dependency injection, so it is).
 */
export class MqttStatusTracker {
  private state: MqttConnectionState = 'idle';
  private connectedSince?: Date;
  private reconnectAttempts = 0;
  private lastError?: string;
  private lastMessageAt?: Date;
  private sessionPresent?: boolean;

  constructor(private readonly mqtt: MqttService) {
    mqtt.state$.subscribe((state) => {
      if (state === 'connected' && this.state !== 'connected') this.connectedSince = new Date();
      if (state !== 'connected') this.connectedSince = undefined;
      this.state = state;
    });
    mqtt.events$.subscribe((event) => {
      if (event.type === 'connect') {
        this.reconnectAttempts = 0;
        this.sessionPresent = event.sessionPresent;
      } else if (event.type === 'reconnect') {
        this.reconnectAttempts = event.attempt;
      } else if (event.type === 'error') {
        this.lastError = event.error.message;
      } else if (event.type === 'log' && event.level === 'error') {
        this.lastError = event.message;
      }
    });
    mqtt.client.on('packetreceive', (packet) => {
      if (packet.cmd === 'publish') this.lastMessageAt = new Date();
    });
    mqtt.client.on('close', () => {
      const error = (mqtt.client.stream as { errored?: Error | null } | undefined)?.errored;
      if (error) this.lastError = error.message;
    });
  }

  status(): MqttStatusSnapshot {
    return {
      name: 'default',
      state: this.state,
      broker: `${this.mqtt.client.options.protocol ?? 'mqtt'}://${this.mqtt.client.options.host}:${this.mqtt.client.options.port}`,
      connectedSince: this.connectedSince,
      reconnectAttempts: this.reconnectAttempts,
      lastError: this.lastError,
      lastMessageAt: this.lastMessageAt,
      sessionPresent: this.sessionPresent,
    };
  }
}

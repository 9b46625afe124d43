import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { MqttService, OnMqttConnect, OnMqttDisconnect, type MqttEvent } from 'nestjs-mqtt';

/** Logs the connection's life: Flask-MQTT's `on_connect` / `on_disconnect`. */
@Injectable()
export class ConnectionListener implements OnApplicationShutdown {
  private readonly logger = new Logger(ConnectionListener.name);

  constructor(private readonly mqtt: MqttService) {}

  @OnMqttConnect()
  onConnect(event: Extract<MqttEvent, { type: 'connect' }>): void {
    this.logger.log(
      `Connected as "${this.mqtt.clientId}" (session present: ${event.sessionPresent})`,
    );
  }

  @OnMqttDisconnect()
  onDisconnect(): void {
    this.logger.warn('Connection to the broker lost');
  }

  /** @internal Runs after the module has disconnected (in `beforeApplicationShutdown`). */
  onApplicationShutdown(signal?: string): void {
    this.logger.log(`Disconnected from the broker${signal ? ` on ${signal}` : ''}`);
  }
}

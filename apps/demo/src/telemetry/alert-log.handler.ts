import { Injectable, Logger } from '@nestjs/common';
import { Payload, Subscribe, Topic } from 'nestjs-mqtt';
import type { TemperatureAlert } from './telemetry.dto';

/**
 * Logs every alert. Its filter `alerts/#` overlaps `alerts/+deviceId` of
 * `TelemetryHandler.onAlert`: every matching handler runs, not just the first.
 */
@Injectable()
export class AlertLogHandler {
  private readonly logger = new Logger(AlertLogHandler.name);

  @Subscribe('alerts/#', { qos: 1 })
  onAnyAlert(@Topic() topic: string, @Payload() alert: TemperatureAlert): void {
    this.logger.warn(
      `${topic}: ${alert.celsius} °C at ${alert.at} is above the ${alert.thresholdCelsius} °C threshold`,
    );
  }
}

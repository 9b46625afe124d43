import { Injectable, Logger } from '@nestjs/common';
import { Payload, Subscribe, Topic } from 'nestjs-mqtt';
import { TemperatureAlertDto } from './telemetry.dto';

/**
 * Logs every alert. Its filter `alerts/#` overlaps `alerts/+deviceId` of
 * `TelemetryHandler.onAlert`: every matching handler runs, not just the first. The alert is
 * validated as a `TemperatureAlertDto`, whose rules also give its schema in the AsyncAPI document.
 */
@Injectable()
export class AlertLogHandler {
  private readonly logger = new Logger(AlertLogHandler.name);

  @Subscribe('alerts/#', { qos: 1 })
  onAnyAlert(@Topic() topic: string, @Payload() alert: TemperatureAlertDto): void {
    this.logger.warn(
      `${topic}: ${alert.celsius} °C at ${alert.at} is above the ${alert.thresholdCelsius} °C threshold`,
    );
  }
}

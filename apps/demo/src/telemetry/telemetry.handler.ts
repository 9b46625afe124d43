import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MqttPublishes, MqttService, Payload, Subscribe, TopicParam } from 'nestjs-mqtt';
import { StatsService, type StatsSnapshot } from './stats.service';
import { TemperatureAlertDto, TemperatureReadingDto } from './telemetry.dto';

/** Alert threshold when DEMO_ALERT_CELSIUS is not set. */
const DEFAULT_ALERT_CELSIUS = 30;

/**
 * Handles device telemetry: validates readings, keeps stats, raises alerts, and answers stats
 * requests.
 */
@Injectable()
export class TelemetryHandler {
  private readonly logger = new Logger(TelemetryHandler.name);
  private readonly alertCelsius: number;

  constructor(
    private readonly mqtt: MqttService,
    private readonly stats: StatsService,
    config: ConfigService,
  ) {
    const raw = config.get<string>('DEMO_ALERT_CELSIUS');
    this.alertCelsius = raw === undefined || raw === '' ? DEFAULT_ALERT_CELSIUS : Number(raw);
    if (!Number.isFinite(this.alertCelsius)) {
      throw new Error(`DEMO_ALERT_CELSIUS must be a number of degrees Celsius, got "${raw}"`);
    }
  }

  /**
   * One reading of one device. `reading` arrives decoded and validated: a payload such as
   * `{"celsius":"hot"}` is logged by the module and this method is not called. The topic root
   * comes from configuration (DEMO_SENSOR_ROOT, default `sensors`), read when the module boots,
   * so one build serves several sites.
   */
  @Subscribe('${DEMO_SENSOR_ROOT}/+deviceId/temp', { qos: 1 })
  @MqttPublishes('alerts/{deviceId}', TemperatureAlertDto, {
    qos: 1,
    summary: 'An alert when a reading exceeds DEMO_ALERT_CELSIUS',
  })
  async onTemperature(
    @TopicParam('deviceId') deviceId: string,
    @Payload() reading: TemperatureReadingDto,
  ): Promise<void> {
    const at = reading.at ?? new Date().toISOString();
    this.stats.recordReading(deviceId, reading.celsius, at);
    if (reading.celsius <= this.alertCelsius) return;
    const alert: TemperatureAlertDto = {
      deviceId,
      celsius: reading.celsius,
      thresholdCelsius: this.alertCelsius,
      at,
    };
    await this.mqtt.publish(`alerts/${deviceId}`, alert, { qos: 1 });
  }

  /** Counts alerts per device (shown on the dashboard). `AlertLogHandler` receives the same messages through `alerts/#`. */
  @Subscribe('alerts/+deviceId', { qos: 1 })
  onAlert(@TopicParam('deviceId') deviceId: string, @Payload() alert: TemperatureAlertDto): void {
    this.stats.recordAlert(deviceId, alert);
  }

  /**
   * Request/reply: the returned object is the reply. On MQTT 5 the module publishes it to the
   * request's response topic with its correlation data; without a response topic it is dropped.
   */
  @Subscribe('demo/stats/get')
  getStats(): StatsSnapshot {
    this.logger.log('Stats requested on demo/stats/get');
    return this.stats.snapshot();
  }
}

import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { MQTT_CONFIG, MqttPublishes, MqttService, type MqttConfig } from 'nestjs-mqtt';
import { STATS_SNAPSHOT_SCHEMA } from './stats.schema';
import { StatsService, type StatsSnapshot } from './stats.service';

/** Seconds between two stats reports. */
const REPORT_EVERY_S = 5;
/** Seconds after startup at which the MQTT 5 request/reply round trip is shown. */
const REQUEST_AFTER_S = 2;

/**
 * Makes the stats visible: every 5 s it logs a summary and publishes the stats, retained, to
 * `demo/stats` (so `mosquitto_sub -t 'demo/#' -v` shows them at once, on any MQTT version).
 * On MQTT 5 it also asks for them once through `MqttService.request('demo/stats/get')`, which
 * `TelemetryHandler.getStats` answers.
 */
@Injectable()
export class StatsReporter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(StatsReporter.name);
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly mqtt: MqttService,
    private readonly stats: StatsService,
    @Inject(MQTT_CONFIG) private readonly config: MqttConfig,
  ) {}

  /** @internal */
  onApplicationBootstrap(): void {
    this.timers.push(setInterval(() => void this.report(), REPORT_EVERY_S * 1000));
    if (this.config.protocolVersion === 5) {
      this.timers.push(setTimeout(() => void this.requestStats(), REQUEST_AFTER_S * 1000));
    }
  }

  /** @internal Stops the timers before the MQTT client closes. */
  onModuleDestroy(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  @MqttPublishes('demo/stats', STATS_SNAPSHOT_SCHEMA, {
    qos: 1,
    retain: true,
    summary: 'The stats every 5 s, retained',
  })
  private async report(): Promise<void> {
    const snapshot = this.stats.snapshot();
    this.logger.log(summary(snapshot));
    try {
      await this.mqtt.publish('demo/stats', snapshot, { qos: 1, retain: true });
    } catch (error) {
      this.logger.warn(`Stats not published: ${(error as Error).message}`);
    }
  }

  private async requestStats(): Promise<void> {
    try {
      const reply = await this.mqtt.request('demo/stats/get', undefined, { timeout: 3000 });
      const snapshot = JSON.parse(reply.payload.toString('utf8')) as StatsSnapshot;
      this.logger.log(
        `MQTT 5 request/reply: demo/stats/get was answered on ${reply.topic}: ${summary(snapshot)}`,
      );
    } catch (error) {
      this.logger.error(`MQTT 5 request/reply failed: ${(error as Error).message}`);
    }
  }
}

function summary({ readings, alerts, devices }: StatsSnapshot): string {
  const perDevice = Object.entries(devices)
    .map(([id, d]) => `${id} ${d.lastCelsius} °C (avg ${d.avgCelsius}, n=${d.readings})`)
    .join(', ');
  return `${readings} readings, ${alerts} alerts${perDevice ? `: ${perDevice}` : ''}`;
}

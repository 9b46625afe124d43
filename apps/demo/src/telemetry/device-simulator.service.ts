import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MqttPublishes, MqttService } from 'nestjs-mqtt';
import { TemperatureReadingDto } from './telemetry.dto';

/** A simulated device: its temperature swings around `base` by `amplitude` over `periodS`. */
interface SimulatedDevice {
  readonly id: string;
  readonly base: number;
  readonly amplitude: number;
  readonly periodS: number;
}

const DEVICES: readonly SimulatedDevice[] = [
  { id: 'boiler-1', base: 27, amplitude: 6, periodS: 20 },
  { id: 'greenhouse-2', base: 22, amplitude: 3, periodS: 30 },
  { id: 'freezer-3', base: -18, amplitude: 1.5, periodS: 15 },
];

/** Every how many ticks one device sends a broken reading, to show validation at work. */
const INVALID_EVERY = 10;

/**
 * Plays three devices: every second each publishes a temperature reading to
 * `sensors/<deviceId>/temp` (QoS 1), as any MQTT client would. Now and then one sends
 * `{ "celsius": "hot" }`, which the module rejects and logs without crashing anything.
 */
@Injectable()
export class DeviceSimulator implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DeviceSimulator.name);
  private timer?: NodeJS.Timeout;
  private tick = 0;

  constructor(
    private readonly mqtt: MqttService,
    private readonly config: ConfigService,
  ) {}

  /** @internal Starts publishing, unless DEMO_SIMULATOR=off. */
  onApplicationBootstrap(): void {
    if (this.config.get<string>('DEMO_SIMULATOR')?.trim().toLowerCase() === 'off') {
      this.logger.log('Device simulator off (DEMO_SIMULATOR=off): only outside devices publish');
      return;
    }
    this.logger.log(
      `Simulating ${DEVICES.map((d) => d.id).join(', ')}: one reading each per second on ${this.root}/<deviceId>/temp`,
    );
    this.timer = setInterval(() => this.publishReadings(), 1000);
  }

  /** @internal Stops publishing before the MQTT client closes. */
  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The topic root the telemetry handler listens on (DEMO_SENSOR_ROOT). */
  private get root(): string {
    return this.config.get<string>('DEMO_SENSOR_ROOT') ?? 'sensors';
  }

  @MqttPublishes('${DEMO_SENSOR_ROOT}/{deviceId}/temp', TemperatureReadingDto, {
    qos: 1,
    summary: 'Simulated device readings, one per device per second',
  })
  private publishReadings(): void {
    this.tick++;
    const at = new Date().toISOString();
    DEVICES.forEach((device, index) => {
      const broken = this.tick % INVALID_EVERY === 2 && index === 1;
      const reading = broken ? { celsius: 'hot', at } : { celsius: this.temperature(device), at };
      if (broken)
        this.logger.warn(`${device.id} sends a broken reading: ${JSON.stringify(reading)}`);
      this.mqtt
        .publish(`${this.root}/${device.id}/temp`, reading, { qos: 1 })
        .catch((error: Error) =>
          this.logger.warn(`Reading of ${device.id} not sent: ${error.message}`),
        );
    });
  }

  private temperature({ base, amplitude, periodS }: SimulatedDevice): number {
    const wave = Math.sin((2 * Math.PI * this.tick) / periodS);
    const noise = (Math.random() - 0.5) * 0.4;
    return Math.round((base + amplitude * wave + noise) * 10) / 10;
  }
}

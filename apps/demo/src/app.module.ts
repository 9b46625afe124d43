import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { MqttModule } from 'nestjs-mqtt';
import { ConnectionListener } from './connection.listener';
import { DashboardModule } from './dashboard/dashboard.module';
import { EmbeddedBroker } from './embedded-broker';
import { TelemetryModule } from './telemetry/telemetry.module';

/** Defaults of the demo's own keys; `.env` and the environment override them. */
export const demoDefaults = (): Record<string, string> => ({ DEMO_SENSOR_ROOT: 'sensors' });

/**
 * The demo application. `ConfigModule` reads `.env` and the environment; `MqttModule.forRootAsync()`
 * with no arguments takes its `MQTT_*` keys from there, and `${DEMO_SENSOR_ROOT}` in the
 * telemetry handler's filter is resolved from there when the module boots.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: [demoDefaults] }),
    MqttModule.forRootAsync(),
    TelemetryModule,
    DashboardModule,
  ],
  providers: [ConnectionListener],
})
export class AppModule {
  /**
   * The app, plus the embedded broker when one runs: as a provider it is closed in
   * `onApplicationShutdown`, after the MQTT client has disconnected.
   */
  static withBroker(embeddedBroker?: EmbeddedBroker): DynamicModule {
    return {
      module: AppModule,
      providers: embeddedBroker ? [{ provide: EmbeddedBroker, useValue: embeddedBroker }] : [],
    };
  }
}

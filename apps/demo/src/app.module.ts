import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { MqttModule } from 'nestjs-mqtt';
import { ConnectionListener } from './connection.listener';
import { DashboardModule } from './dashboard/dashboard.module';
import { EmbeddedBroker } from './embedded-broker';
import { TelemetryModule } from './telemetry/telemetry.module';

/**
 * The demo application. `ConfigModule` reads `.env` and the environment; `MqttModule.forRootAsync()`
 * with no arguments takes its `MQTT_*` keys from there.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
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

import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TelemetryModule } from '../telemetry/telemetry.module';
import { DashboardFeed } from './dashboard.feed';
import { DashboardServer } from './dashboard.server';
import { HandlerOutcomeInterceptor, MqttMonitor } from './mqtt-monitor';

/** The live dashboard: connection, telemetry, alerts, handler counts and the AsyncAPI document. */
@Module({
  imports: [TelemetryModule],
  providers: [
    MqttMonitor,
    DashboardFeed,
    DashboardServer,
    { provide: APP_INTERCEPTOR, useClass: HandlerOutcomeInterceptor },
  ],
})
export class DashboardModule {}

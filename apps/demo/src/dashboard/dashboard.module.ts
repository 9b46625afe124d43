import { Module } from '@nestjs/common';
import { TelemetryModule } from '../telemetry/telemetry.module';
import { DashboardFeed } from './dashboard.feed';
import { DashboardServer } from './dashboard.server';

/** The live dashboard: connection, telemetry, alerts, handler counts and the AsyncAPI document. */
@Module({
  imports: [TelemetryModule],
  providers: [DashboardFeed, DashboardServer],
})
export class DashboardModule {}

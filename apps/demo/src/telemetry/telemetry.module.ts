import { Module } from '@nestjs/common';
import { AlertLogHandler } from './alert-log.handler';
import { DeviceSimulator } from './device-simulator.service';
import { StatsReporter } from './stats.reporter';
import { StatsService } from './stats.service';
import { TelemetryHandler } from './telemetry.handler';

/** Device telemetry: simulated devices, the handlers of their readings and alerts, and stats. */
@Module({
  providers: [StatsService, TelemetryHandler, AlertLogHandler, DeviceSimulator, StatsReporter],
  exports: [StatsService],
})
export class TelemetryModule {}

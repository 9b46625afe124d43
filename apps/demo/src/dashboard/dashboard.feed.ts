import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MqttService, type AsyncApiDocument } from 'nestjs-mqtt';
import { auditTime, map, merge, type Observable } from 'rxjs';
import { demoAsyncApi } from '../asyncapi.document';
import { StatsService, type DeviceStats } from '../telemetry/stats.service';
import type { TemperatureAlertDto } from '../telemetry/telemetry.dto';
import { MqttMonitor, type MqttStatsView, type MqttStatusView } from './mqtt-monitor';

/** Milliseconds between two pushes at most, however fast things change. */
const PUSH_EVERY_MS = 150;

/** Everything the dashboard page shows but the AsyncAPI document, as one JSON object. */
export interface DashboardSnapshot {
  readonly at: string;
  readonly status: MqttStatusView;
  readonly stats: MqttStatsView;
  readonly devices: Readonly<Record<string, Readonly<DeviceStats>>>;
  readonly alerts: readonly TemperatureAlertDto[];
}

/** Assembles the dashboard's data and says when it changed. */
@Injectable()
export class DashboardFeed {
  private document?: AsyncApiDocument;

  constructor(
    private readonly mqtt: MqttService,
    private readonly monitor: MqttMonitor,
    private readonly stats: StatsService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The app's AsyncAPI document (generated once: the handlers do not change at run time). */
  asyncApi(): AsyncApiDocument {
    this.document ??= demoAsyncApi(this.moduleRef);
    return this.document;
  }

  /** The data now. */
  snapshot(): DashboardSnapshot {
    // Every handler with its filters, so those not called yet show with zero counts.
    const handlers = new Map<string, { name: string; filters: string[] }>();
    for (const op of Object.values(this.asyncApi().operations)) {
      const name = op['x-handler'];
      const filter = op['x-mqtt-filter'];
      if (op.action !== 'receive' || !name || !filter) continue;
      const entry = handlers.get(name) ?? { name, filters: [] };
      entry.filters.push(filter);
      handlers.set(name, entry);
    }
    return {
      at: new Date().toISOString(),
      status: this.monitor.status(),
      stats: this.monitor.stats([...handlers.values()]),
      devices: this.stats.snapshot().devices,
      alerts: this.stats.recentAlerts(),
    };
  }

  /** Emits (at most every 150 ms) when the connection, a count, a reading or an alert changed. */
  changes$(): Observable<void> {
    return merge(
      this.mqtt.state$,
      this.mqtt.events$,
      this.stats.changes$,
      this.monitor.changes$,
    ).pipe(
      auditTime(PUSH_EVERY_MS),
      map(() => undefined),
    );
  }
}

import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  MqttService,
  type AsyncApiDocument,
  type MqttHandlerStats,
  type MqttStats,
  type MqttStatus,
} from 'nestjs-mqtt';
import { auditTime, map, merge, type Observable } from 'rxjs';
import { demoAsyncApi } from '../asyncapi.document';
import { StatsService, type DeviceStats } from '../telemetry/stats.service';
import type { TemperatureAlertDto } from '../telemetry/telemetry.dto';

/** Milliseconds between two pushes at most, however fast things change. */
const PUSH_EVERY_MS = 150;

/** Everything the dashboard page shows but the AsyncAPI document, as one JSON object. */
export interface DashboardSnapshot {
  readonly at: string;
  /** `MqttService.status()`: state, broker, connected since, reconnect attempts, last error. */
  readonly status: MqttStatus;
  /** `MqttService.stats()`: totals, and handled / failed / timed out counts per handler. */
  readonly stats: MqttStats;
  readonly devices: Readonly<Record<string, Readonly<DeviceStats>>>;
  readonly alerts: readonly TemperatureAlertDto[];
}

/** Assembles the dashboard's data and says when it changed. */
@Injectable()
export class DashboardFeed {
  private document?: AsyncApiDocument;

  constructor(
    private readonly mqtt: MqttService,
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
    return {
      at: new Date().toISOString(),
      status: this.mqtt.status(),
      stats: this.withAllHandlers(this.mqtt.stats()),
      devices: this.stats.snapshot().devices,
      alerts: this.stats.recentAlerts(),
    };
  }

  /**
   * `stats()` lists a handler once it has had a message: add the others (from the AsyncAPI
   * document's receive operations) with zero counts, in the document's order.
   */
  private withAllHandlers(stats: MqttStats): MqttStats {
    const counted = new Map(stats.handlers.map((h) => [h.name, h]));
    const handlers: MqttHandlerStats[] = [];
    for (const op of Object.values(this.asyncApi().operations)) {
      const name = op['x-handler'];
      const filter = op['x-mqtt-filter'];
      if (op.action !== 'receive' || !name || !filter) continue;
      const known = handlers.find((h) => h.name === name);
      if (known) {
        if (!known.filters.includes(filter)) (known.filters as string[]).push(filter);
        continue;
      }
      const seen = counted.get(name);
      handlers.push(
        seen
          ? { ...seen, filters: [...seen.filters] }
          : {
              name,
              filters: [filter],
              handled: 0,
              failed: 0,
              timedOut: 0,
              dropped: 0,
              running: 0,
              queued: 0,
            },
      );
      counted.delete(name);
    }
    return { ...stats, handlers: [...handlers, ...counted.values()] };
  }

  /**
   * Emits (at most every 150 ms) when the connection, a count, a reading or an alert changed.
   * Observing `events$` also turns on its per-message events, which move the counts.
   */
  changes$(): Observable<void> {
    return merge(this.mqtt.state$, this.mqtt.events$, this.stats.changes$).pipe(
      auditTime(PUSH_EVERY_MS),
      map(() => undefined),
    );
  }
}

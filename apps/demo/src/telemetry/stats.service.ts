import { Injectable } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import type { TemperatureAlertDto } from './telemetry.dto';

/** How many alerts `recentAlerts()` keeps. */
const RECENT_ALERTS = 20;

/** What the app has seen from one device. */
export interface DeviceStats {
  readings: number;
  minCelsius: number;
  maxCelsius: number;
  avgCelsius: number;
  lastCelsius: number;
  lastAt: string;
  alerts: number;
}

/** The stats served on `demo/stats/get` and published to `demo/stats`. */
export interface StatsSnapshot {
  readonly since: string;
  readonly readings: number;
  readonly alerts: number;
  readonly devices: Readonly<Record<string, Readonly<DeviceStats>>>;
}

/** Per-device temperature statistics, in memory. */
@Injectable()
export class StatsService {
  private readonly since = new Date().toISOString();
  private readonly devices = new Map<string, { stats: DeviceStats; sum: number }>();
  private readonly alerts: TemperatureAlertDto[] = [];
  private readonly changes = new Subject<void>();

  /** Emits after every reading or alert recorded (for the dashboard). */
  get changes$(): Observable<void> {
    return this.changes.asObservable();
  }

  /** The last alerts, newest first. */
  recentAlerts(): TemperatureAlertDto[] {
    return [...this.alerts];
  }

  /** Adds one valid reading of `deviceId`. */
  recordReading(deviceId: string, celsius: number, at: string): void {
    this.addReading(deviceId, celsius, at);
    this.changes.next();
  }

  private addReading(deviceId: string, celsius: number, at: string): void {
    const entry = this.devices.get(deviceId);
    if (!entry) {
      this.devices.set(deviceId, {
        sum: celsius,
        stats: {
          readings: 1,
          minCelsius: celsius,
          maxCelsius: celsius,
          avgCelsius: celsius,
          lastCelsius: celsius,
          lastAt: at,
          alerts: 0,
        },
      });
      return;
    }
    const { stats } = entry;
    entry.sum += celsius;
    stats.readings++;
    stats.minCelsius = Math.min(stats.minCelsius, celsius);
    stats.maxCelsius = Math.max(stats.maxCelsius, celsius);
    stats.avgCelsius = Math.round((entry.sum / stats.readings) * 10) / 10;
    stats.lastCelsius = celsius;
    stats.lastAt = at;
  }

  /** Counts one alert of `deviceId`, and keeps it among the recent ones. */
  recordAlert(deviceId: string, alert: TemperatureAlertDto): void {
    const entry = this.devices.get(deviceId);
    if (entry) entry.stats.alerts++;
    this.alerts.unshift(alert);
    if (this.alerts.length > RECENT_ALERTS) this.alerts.length = RECENT_ALERTS;
    this.changes.next();
  }

  /** A copy of the stats now, ready to be sent as JSON. */
  snapshot(): StatsSnapshot {
    const devices: Record<string, DeviceStats> = {};
    let readings = 0;
    let alerts = 0;
    const byId = [...this.devices].sort(([a], [b]) => a.localeCompare(b));
    for (const [id, { stats }] of byId) {
      devices[id] = { ...stats };
      readings += stats.readings;
      alerts += stats.alerts;
    }
    return { since: this.since, readings, alerts, devices };
  }
}

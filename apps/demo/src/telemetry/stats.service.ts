import { Injectable } from '@nestjs/common';

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
  private readonly devices = new Map<string, DeviceStats & { sum: number }>();

  /** Adds one valid reading of `deviceId`. */
  recordReading(deviceId: string, celsius: number, at: string): void {
    const stats = this.devices.get(deviceId);
    if (!stats) {
      this.devices.set(deviceId, {
        readings: 1,
        sum: celsius,
        minCelsius: celsius,
        maxCelsius: celsius,
        avgCelsius: celsius,
        lastCelsius: celsius,
        lastAt: at,
        alerts: 0,
      });
      return;
    }
    stats.readings++;
    stats.sum += celsius;
    stats.minCelsius = Math.min(stats.minCelsius, celsius);
    stats.maxCelsius = Math.max(stats.maxCelsius, celsius);
    stats.avgCelsius = round(stats.sum / stats.readings);
    stats.lastCelsius = celsius;
    stats.lastAt = at;
  }

  /** Counts one alert of `deviceId`. */
  recordAlert(deviceId: string): void {
    const stats = this.devices.get(deviceId);
    if (stats) stats.alerts++;
  }

  /** A copy of the stats now, ready to be sent as JSON. */
  snapshot(): StatsSnapshot {
    const devices: Record<string, DeviceStats> = {};
    let readings = 0;
    let alerts = 0;
    for (const [id, { sum: _sum, ...stats }] of [...this.devices].sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      devices[id] = stats;
      readings += stats.readings;
      alerts += stats.alerts;
    }
    return { since: this.since, readings, alerts, devices };
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

import type { AsyncApiSchema } from 'nestjs-mqtt';

const DEVICE_STATS_SCHEMA: AsyncApiSchema = {
  type: 'object',
  properties: {
    readings: { type: 'integer', minimum: 1 },
    minCelsius: { type: 'number' },
    maxCelsius: { type: 'number' },
    avgCelsius: { type: 'number' },
    lastCelsius: { type: 'number' },
    lastAt: { type: 'string', format: 'date-time' },
    alerts: { type: 'integer', minimum: 0 },
  },
  required: [
    'readings',
    'minCelsius',
    'maxCelsius',
    'avgCelsius',
    'lastCelsius',
    'lastAt',
    'alerts',
  ],
};

/**
 * The JSON Schema of `StatsSnapshot` (published to `demo/stats`) for the AsyncAPI document: a
 * map of devices has no class-validator form, so `@MqttPublishes()` is given a schema instead of
 * a class.
 */
export const STATS_SNAPSHOT_SCHEMA: AsyncApiSchema = {
  type: 'object',
  title: 'StatsSnapshot',
  properties: {
    since: { type: 'string', format: 'date-time' },
    readings: { type: 'integer', minimum: 0 },
    alerts: { type: 'integer', minimum: 0 },
    devices: { type: 'object', additionalProperties: DEVICE_STATS_SCHEMA },
  },
  required: ['since', 'readings', 'alerts', 'devices'],
};

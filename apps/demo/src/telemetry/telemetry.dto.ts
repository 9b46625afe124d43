import { IsISO8601, IsNumber, IsOptional, Max, Min } from 'class-validator';

/**
 * A temperature reading, as devices publish it to `sensors/<deviceId>/temp`:
 * `{ "celsius": 21.5, "at": "2025-01-01T12:00:00.000Z" }`. The module decodes the JSON into this
 * class and validates it; an invalid reading is logged by the module and never reaches the handler.
 */
export class TemperatureReadingDto {
  /** Degrees Celsius, within what a real sensor can report. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-60)
  @Max(150)
  celsius!: number;

  /** When the reading was taken (ISO 8601); the time of arrival when absent. */
  @IsOptional()
  @IsISO8601()
  at?: string;
}

/** What is published to `alerts/<deviceId>` when a reading exceeds the threshold. */
export interface TemperatureAlert {
  readonly deviceId: string;
  readonly celsius: number;
  readonly thresholdCelsius: number;
  readonly at: string;
}

import {
  IsISO8601,
  IsNumber,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';

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
export class TemperatureAlertDto {
  /** The device whose reading exceeded the threshold. */
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9_-]+$/)
  deviceId!: string;

  /** The reading, in degrees Celsius. */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-60)
  @Max(150)
  celsius!: number;

  /** The threshold in force (DEMO_ALERT_CELSIUS). */
  @IsNumber({ allowNaN: false, allowInfinity: false })
  thresholdCelsius!: number;

  /** When the reading was taken (ISO 8601). */
  @IsISO8601()
  at!: string;
}

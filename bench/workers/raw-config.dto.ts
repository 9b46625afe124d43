/**
 * The configuration a hand-wired MQTT.js app validates at startup, the way the NestJS docs
 * validate environment variables (`ConfigModule.forRoot({ validate })` with a class-validator
 * class): the keys such an app reads to connect. The raw and Nest-transport contestants validate
 * it once before connecting, as the module validates its `MQTT_*` keys, so every contestant's
 * class-validator has seen a configuration class besides the measured DTO (see bench/README.md,
 * "validated DTO").
 */
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import { plainToInstance } from 'class-transformer';

/** The environment of a hand-wired MQTT app. */
export class RawMqttConfig {
  @IsString()
  @MinLength(1)
  MQTT_BROKER_URL!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  MQTT_BROKER_PORT!: number;

  @IsOptional()
  @IsString()
  MQTT_CLIENT_ID?: string;

  @IsOptional()
  @IsString()
  MQTT_USERNAME?: string;

  @IsOptional()
  @IsString()
  MQTT_PASSWORD?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  MQTT_KEEPALIVE?: number;

  @IsOptional()
  @IsBoolean()
  MQTT_CLEAN_SESSION?: boolean;

  @IsOptional()
  @Type(() => Number)
  @IsIn([3, 4, 5])
  MQTT_PROTOCOL_VERSION?: number;

  @IsOptional()
  @Type(() => Number)
  @IsIn([0, 1, 2])
  MQTT_QOS?: number;
}

/** Validates `env` as such an app does at startup; throws on the first problem. */
export function validateRawConfig(env: Record<string, unknown>): RawMqttConfig {
  const config = plainToInstance(RawMqttConfig, env);
  const errors = validateSync(config, { skipMissingProperties: false });
  if (errors.length > 0) throw new Error(`invalid configuration: ${errors.join(', ')}`);
  return config;
}

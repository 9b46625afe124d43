/**
 * The validated DTO of the `dto` scenario: the benchmark payload (shared.PAYLOAD) as a class with
 * class-validator decorators, as a user would write it for `@Payload() dto: ReadingDto`.
 */
import { IsBoolean, IsIn, IsInt, IsNumber, IsString } from 'class-validator';

/** One sensor reading. */
export class ReadingDto {
  @IsInt()
  seq!: number;

  @IsString()
  device!: string;

  @IsNumber()
  temperature!: number;

  @IsIn(['C', 'F'])
  unit!: string;

  @IsBoolean()
  ok!: boolean;
}

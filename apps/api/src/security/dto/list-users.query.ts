import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import type { UserRole } from '../../../../../libs/db/entities/user.entity';

/** `true`/`false` in a query string; anything else is left for the validator to refuse. */
export const queryBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

export class ListUsersQuery {
  @ApiPropertyOptional({ description: 'Part of the email address (case-insensitive)', maxLength: 254 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ enum: ['user', 'admin'] })
  @IsOptional()
  @IsIn(['user', 'admin'])
  role?: UserRole;

  @ApiPropertyOptional({ type: Boolean, description: 'Only accounts that are (or are not) locked out right now' })
  @IsOptional()
  @Transform(queryBoolean)
  @IsBoolean()
  locked?: boolean;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

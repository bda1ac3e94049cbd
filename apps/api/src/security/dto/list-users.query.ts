import { PageQuery } from '../../common/page.query';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { UserRole } from '#libs/db/entities/user.entity';

/** `true`/`false` in a query string; anything else is left for the validator to refuse. */
export const queryBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

export class ListUsersQuery extends PageQuery {
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
}

import { PageQuery } from '../../common/page.query';
import { queryBoolean } from '../../common/query-boolean';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { UserRole } from '#libs/db/entities/user.entity';

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

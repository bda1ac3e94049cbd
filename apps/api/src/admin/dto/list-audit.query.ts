import { PageQuery } from '../../common/page.query';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, IsUUID, Matches } from 'class-validator';

export class ListAuditQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'The user who acted' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  actor?: string;

  @ApiPropertyOptional({ example: 'auth.login_failed' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9_.:-]{1,64}$/, { message: 'must be an action name (a-z, 0-9 and _.:-, at most 64)' })
  action?: string;

  @ApiPropertyOptional({ description: 'The id of what was acted on (a user, session, token, conversation…)' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'must be an id (A-Z, a-z, 0-9 and _.:-, at most 64)' })
  target?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'From this time on (inclusive)' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Before this time (exclusive)' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'must be an ISO 8601 date-time' })
  to?: string;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ApiTokenEntity } from '#libs/db/entities/api-token.entity';
import { isScope, SCOPES, Scope } from '../security/scopes';

/** An API token as its owner sees it in a list: never the secret. */
export class ApiTokenView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'CI bot' })
  name!: string;

  @ApiProperty({ enum: SCOPES, isArray: true })
  scopes!: Scope[];

  @ApiProperty({ example: 'gct_Ab3dE9xQ', description: 'The start of the secret, to recognise the token by' })
  prefix!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  expiresAt!: string | null;

  @ApiPropertyOptional({ format: 'date-time', nullable: true, type: String, description: 'To the minute' })
  lastUsedAt!: string | null;
}

/** The answer to creating a token: the only time the secret is shown. */
export class CreatedApiToken extends ApiTokenView {
  @ApiProperty({ example: 'gct_Ab3dE9xQ…', description: 'The secret: shown this once, store it now' })
  token!: string;
}

export class ApiTokenList {
  @ApiProperty({ type: ApiTokenView, isArray: true })
  items!: ApiTokenView[];
}

export function toApiTokenView(token: ApiTokenEntity): ApiTokenView {
  return {
    id: token.id,
    name: token.name,
    scopes: token.scopes.filter(isScope),
    prefix: token.prefix,
    createdAt: token.createdAt.toISOString(),
    expiresAt: token.expiresAt?.toISOString() ?? null,
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
  };
}

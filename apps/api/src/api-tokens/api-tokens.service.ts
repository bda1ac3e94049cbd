import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditWriter } from '#libs/audit/audit-writer';
import { generateOpaqueToken } from '#libs/auth/opaque-token';
import type { Database } from '#libs/db/database';
import { ForbiddenError, NotFoundError } from '#libs/errors/app-error';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { DATABASE } from '../infra/di-symbols';
import { missingScopes, normalizeScopes } from '../security/scopes';
import { API_TOKEN_PREFIX } from './api-token-authenticator';
import { ApiTokenView, CreatedApiToken, toApiTokenView } from './api-token.view';
import type { CreateApiTokenDto } from './dto/create-api-token.dto';

/** Characters of the secret kept (in clear) to recognise a token by: the prefix and 8 random characters. */
const SHOWN_PREFIX_LENGTH = API_TOKEN_PREFIX.length + 8;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A user's scoped API tokens: created with a secret shown once, listed without it, revoked. */
@Injectable()
export class ApiTokensService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly audit: AuditWriter,
  ) {}

  /** A new token with at most the caller's own scopes (`admin` only for admins); audited `token.created`. */
  async create(principal: Principal, dto: CreateApiTokenDto, client: ClientInfo): Promise<CreatedApiToken> {
    const scopes = normalizeScopes(dto.scopes);
    const missing = missingScopes(principal.scopes, scopes);
    if (missing.length > 0) {
      throw new ForbiddenError(`You cannot grant scopes you do not hold: ${missing.join(', ')}`);
    }
    const secret = generateOpaqueToken(API_TOKEN_PREFIX);
    const id = randomUUID();
    const token = await this.db.transaction(async (tx) => {
      const created = await tx.apiTokens.create({
        id,
        userId: principal.userId,
        name: dto.name,
        tokenHash: secret.hash,
        prefix: secret.token.slice(0, SHOWN_PREFIX_LENGTH),
        scopes,
        expiresAt: dto.expiresInDays === undefined ? null : new Date(Date.now() + dto.expiresInDays * DAY_MS),
      });
      await this.audit.record(
        {
          actorId: principal.userId,
          action: 'token.created',
          targetType: 'api_token',
          targetId: id,
          metadata: { scopes, expiresInDays: dto.expiresInDays ?? null },
          ...client,
        },
        tx,
      );
      return created;
    });
    return { ...toApiTokenView(token), token: secret.token };
  }

  /** The caller's live (unrevoked) tokens, expired ones included, newest first. */
  async list(principal: Principal): Promise<ApiTokenView[]> {
    const tokens = await this.db.apiTokens.listLive(principal.userId);
    return tokens.map(toApiTokenView);
  }

  /** One of the caller's live tokens, without its secret; someone else's (or an unknown or revoked one) is 404. */
  async get(principal: Principal, id: string): Promise<ApiTokenView> {
    const token = await this.db.apiTokens.findLive(id, principal.userId);
    if (!token) throw new NotFoundError('The API token');
    return toApiTokenView(token);
  }

  /** Revokes one of the caller's tokens; someone else's (or an unknown or revoked one) is 404. */
  async revoke(principal: Principal, id: string, client: ClientInfo): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (!(await tx.apiTokens.revoke(id, principal.userId))) throw new NotFoundError('The API token');
      await this.audit.record(
        { actorId: principal.userId, action: 'token.revoked', targetType: 'api_token', targetId: id, ...client },
        tx,
      );
    });
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { hashOpaqueToken } from '#libs/auth/opaque-token';
import { ApiTokenEntity } from '#libs/db/entities/api-token.entity';
import type { UserRole } from '#libs/db/entities/user.entity';
import { UnauthorizedError } from '#libs/errors/app-error';
import type { Logger } from '#libs/logging/logger';
import type { Principal } from '../auth/principal';
import { DATA_SOURCE, LOGGER } from '../infra/di-symbols';
import { effectiveTokenScopes } from '../security/scopes';

/** Every API token secret starts with this, so leaked ones are recognisable (and told apart from PASETO tokens). */
export const API_TOKEN_PREFIX = 'gct_';
/** `last_used_at` is written at most this often per token. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Turns a presented `gct_…` secret into a principal. The token is found by the SHA-256 of the secret, an exact
 * index look-up on a value the caller cannot steer (so no timing leaks about stored secrets); then expiry,
 * revocation and the owner's state are checked on every request, so revoking or disabling takes effect at once.
 */
@Injectable()
export class ApiTokenAuthenticator {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async authenticate(secret: string, now = new Date()): Promise<Principal> {
    const row = await this.db
      .getRepository(ApiTokenEntity)
      .createQueryBuilder('t')
      .innerJoin('users', 'u', 'u.id = t.user_id')
      .addSelect(['u.role AS owner_role', 'u.disabled AS owner_disabled'])
      .where('t.token_hash = :hash', { hash: hashOpaqueToken(secret) })
      .getRawAndEntities<{ owner_role: UserRole; owner_disabled: number | boolean }>();
    const token = row.entities[0];
    const owner = row.raw[0];
    if (!token || !owner || token.revokedAt || Boolean(Number(owner.owner_disabled))) {
      throw new UnauthorizedError('The API token is not valid');
    }
    if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) {
      throw new UnauthorizedError('The API token has expired; create a new one', 'token_expired');
    }
    await this.touch(token, now);
    return {
      userId: token.userId,
      sessionId: token.id,
      role: owner.owner_role,
      scopes: effectiveTokenScopes(token.scopes, owner.owner_role),
      kind: 'api_token',
    };
  }

  /**
   * Records use at most once a minute per token: only when the stored time is older, and conditionally, so API
   * instances racing each other write once. A failure here is logged, never fails the request.
   */
  private async touch(token: ApiTokenEntity, now: Date): Promise<void> {
    if (token.lastUsedAt && now.getTime() - token.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    try {
      await this.db
        .getRepository(ApiTokenEntity)
        .createQueryBuilder()
        .update()
        .set({ lastUsedAt: now })
        .where('id = :id', { id: token.id })
        .andWhere('(last_used_at IS NULL OR last_used_at < :stale)', {
          stale: new Date(now.getTime() - LAST_USED_RESOLUTION_MS),
        })
        .execute();
    } catch (error) {
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'api token last_used_at');
    }
  }
}

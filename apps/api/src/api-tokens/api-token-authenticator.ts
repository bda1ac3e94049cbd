import { Inject, Injectable } from '@nestjs/common';
import { hashOpaqueToken } from '#libs/auth/opaque-token';
import type { Database } from '#libs/db/database';
import type { ApiTokenEntity } from '#libs/db/entities/api-token.entity';
import { UnauthorizedError } from '#libs/errors/app-error';
import type { Logger } from '#libs/logging/logger';
import type { Principal } from '../auth/principal';
import { DATABASE, LOGGER } from '../infra/di-symbols';
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
    @Inject(DATABASE) private readonly db: Database,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async authenticate(secret: string, now = new Date()): Promise<Principal> {
    const found = await this.db.apiTokens.findWithOwnerByHash(hashOpaqueToken(secret));
    if (!found || found.token.revokedAt || found.owner.disabled) {
      throw new UnauthorizedError('The API token is not valid');
    }
    const { token, owner } = found;
    if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) {
      throw new UnauthorizedError('The API token has expired; create a new one', 'token_expired');
    }
    await this.touch(token, now);
    return {
      userId: token.userId,
      sessionId: token.id,
      role: owner.role,
      scopes: effectiveTokenScopes(token.scopes, owner.role),
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
      await this.db.apiTokens.recordUse(token.id, now, new Date(now.getTime() - LAST_USED_RESOLUTION_MS));
    } catch (error) {
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'api token last_used_at');
    }
  }
}

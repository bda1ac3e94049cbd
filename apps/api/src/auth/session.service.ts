import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditWriter } from '#libs/audit/audit-writer';
import { AccessTokenCodec } from '#libs/auth/access-token';
import { generateOpaqueToken, hashOpaqueToken } from '#libs/auth/opaque-token';
import type { AppConfig } from '#libs/config/app-config';
import type { Database } from '#libs/db/database';
import type { SessionRevokedReason } from '#libs/db/entities/session.entity';
import type { UserEntity } from '#libs/db/entities/user.entity';
import { UnauthorizedError } from '#libs/errors/app-error';
import type { ClientInfo } from '../common/client-info';
import { APP_CONFIG, DATABASE } from '../infra/di-symbols';
import { SessionRevocations } from './session-revocations';
import type { TokenPair } from './token-pair';

const REFRESH_TOKEN_PREFIX = 'gcr_';

/**
 * Login sessions: one per login, carrying a chain of refresh tokens. Each refresh spends the presented token and
 * issues the next; the spent ones are kept (hashed), and presenting one again — a copied token racing its owner —
 * revokes the whole session, including its live access tokens.
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: AccessTokenCodec,
    private readonly revocations: SessionRevocations,
    private readonly audit: AuditWriter,
  ) {}

  async open(user: UserEntity, client: ClientInfo): Promise<{ sessionId: string; tokens: TokenPair }> {
    const refresh = generateOpaqueToken(REFRESH_TOKEN_PREFIX);
    const sessionId = randomUUID();
    await this.db.sessions.open({
      id: sessionId,
      userId: user.id,
      refreshTokenHash: refresh.hash,
      expiresAt: new Date(Date.now() + this.config.auth.refreshTokenTtlSeconds * 1000),
      ip: client.ip,
      userAgent: client.userAgent,
    });
    const access = await this.tokens.issue({ sub: user.id, sid: sessionId, role: user.role });
    return { sessionId, tokens: this.pair(access.token, refresh.token) };
  }

  /** Spends `refreshToken` and returns a new pair; a spent token presented again revokes its session. */
  async rotate(refreshToken: string, client: ClientInfo): Promise<TokenPair> {
    const hash = hashOpaqueToken(refreshToken);
    const session = await this.db.sessions.findByRefreshTokenHash(hash);
    if (!session) {
      await this.revokeIfSpent(hash, client);
      throw invalidRefreshToken();
    }
    if (session.revokedAt || session.expiresAt.getTime() <= Date.now()) throw invalidRefreshToken();
    const user = await this.db.users.findById(session.userId);
    if (!user || user.disabled) throw invalidRefreshToken();

    const next = generateOpaqueToken(REFRESH_TOKEN_PREFIX);
    // Conditional on the presented hash: of two concurrent refreshes with one token, exactly one wins.
    const rotated = await this.db.transaction((tx) =>
      tx.sessions.rotateRefreshToken(session.id, hash, next.hash, client),
    );
    if (!rotated) {
      // Lost the race to another use of the same token: that is reuse too.
      await this.revokeIfSpent(hash, client);
      throw invalidRefreshToken();
    }
    const access = await this.tokens.issue({ sub: user.id, sid: session.id, role: user.role });
    return this.pair(access.token, next.token);
  }

  /** Ends one session: its refresh token stops working and its access tokens are refused from now on. */
  async revoke(sessionId: string, reason: SessionRevokedReason): Promise<void> {
    await this.db.sessions.revoke(sessionId, reason);
    await this.revocations.revoke(sessionId);
  }

  /** If `hash` is a spent refresh token, revokes its session (database and Redis) and audits `auth.refresh_reuse`. */
  private async revokeIfSpent(hash: string, client: ClientInfo): Promise<void> {
    const spent = await this.db.sessions.findSpentRefreshToken(hash);
    if (!spent) return;
    const wasActive = await this.db.sessions.revoke(spent.sessionId, 'refresh_reuse');
    await this.revocations.revoke(spent.sessionId);
    const session = await this.db.sessions.findById(spent.sessionId);
    await this.audit.record({
      actorId: session?.userId ?? null,
      action: 'auth.refresh_reuse',
      targetType: 'session',
      targetId: spent.sessionId,
      metadata: { spentAt: spent.spentAt.toISOString(), sessionWasActive: wasActive },
      ...client,
    });
  }

  private pair(accessToken: string, refreshToken: string): TokenPair {
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.config.auth.accessTokenTtlSeconds };
  }
}

function invalidRefreshToken(): UnauthorizedError {
  return new UnauthorizedError('The refresh token is not valid; log in again');
}

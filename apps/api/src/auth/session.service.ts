import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, In, IsNull, Not } from 'typeorm';
import { AccessTokenCodec } from '#libs/auth/access-token';
import { generateOpaqueToken, hashOpaqueToken } from '#libs/auth/opaque-token';
import type { AppConfig } from '#libs/config/app-config';
import { RefreshTokenEntity } from '#libs/db/entities/refresh-token.entity';
import { SessionEntity, SessionRevokedReason } from '#libs/db/entities/session.entity';
import { UserEntity } from '#libs/db/entities/user.entity';
import { UnauthorizedError } from '#libs/errors/app-error';
import { AuditService } from '../audit/audit.service';
import type { ClientInfo } from '../common/client-info';
import { APP_CONFIG, DATA_SOURCE } from '../infra/di-symbols';
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
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: AccessTokenCodec,
    private readonly revocations: SessionRevocations,
    private readonly audit: AuditService,
  ) {}

  async open(user: UserEntity, client: ClientInfo): Promise<{ sessionId: string; tokens: TokenPair }> {
    const refresh = generateOpaqueToken(REFRESH_TOKEN_PREFIX);
    const sessionId = randomUUID();
    await this.db.getRepository(SessionEntity).insert({
      id: sessionId,
      userId: user.id,
      refreshTokenHash: refresh.hash,
      expiresAt: new Date(Date.now() + this.config.auth.refreshTokenTtlSeconds * 1000),
      revokedAt: null,
      revokedReason: null,
      ip: client.ip,
      userAgent: client.userAgent,
    });
    const access = await this.tokens.issue({ sub: user.id, sid: sessionId, role: user.role });
    return { sessionId, tokens: this.pair(access.token, refresh.token) };
  }

  /** Spends `refreshToken` and returns a new pair; a spent token presented again revokes its session. */
  async rotate(refreshToken: string, client: ClientInfo): Promise<TokenPair> {
    const hash = hashOpaqueToken(refreshToken);
    const session = await this.db.getRepository(SessionEntity).findOneBy({ refreshTokenHash: hash });
    if (!session) {
      await this.revokeIfSpent(hash, client);
      throw invalidRefreshToken();
    }
    if (session.revokedAt || session.expiresAt.getTime() <= Date.now()) throw invalidRefreshToken();
    const user = await this.db.getRepository(UserEntity).findOneBy({ id: session.userId });
    if (!user || user.disabled) throw invalidRefreshToken();

    const next = generateOpaqueToken(REFRESH_TOKEN_PREFIX);
    const rotated = await this.db.transaction(async (tx) => {
      // Conditional on the presented hash: of two concurrent refreshes with one token, exactly one wins.
      const result = await tx
        .getRepository(SessionEntity)
        .update(
          { id: session.id, refreshTokenHash: hash, revokedAt: IsNull() },
          { refreshTokenHash: next.hash, ip: client.ip, userAgent: client.userAgent },
        );
      if (result.affected !== 1) return false;
      await tx
        .getRepository(RefreshTokenEntity)
        .insert({ tokenHash: hash, sessionId: session.id, spentAt: new Date() });
      return true;
    });
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
    await this.db
      .getRepository(SessionEntity)
      .update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: new Date(), revokedReason: reason });
    await this.revocations.revoke(sessionId);
  }

  /**
   * Marks every live session of `userId` but `keepSessionId` revoked, inside the caller's transaction, and returns
   * their ids. The caller revokes them in Redis (`SessionRevocations.revokeMany`) once the transaction commits.
   */
  async revokeOthers(
    tx: EntityManager,
    userId: string,
    keepSessionId: string,
    reason: SessionRevokedReason,
  ): Promise<string[]> {
    const sessions = tx.getRepository(SessionEntity);
    const live = await sessions.find({
      select: { id: true },
      where: { userId, id: Not(keepSessionId), revokedAt: IsNull() },
      lock: { mode: 'pessimistic_write' },
    });
    const ids = live.map((session) => session.id);
    if (ids.length > 0) await sessions.update({ id: In(ids) }, { revokedAt: new Date(), revokedReason: reason });
    return ids;
  }

  /** If `hash` is a spent refresh token, revokes its session (database and Redis) and audits `auth.refresh_reuse`. */
  private async revokeIfSpent(hash: string, client: ClientInfo): Promise<void> {
    const spent = await this.db.getRepository(RefreshTokenEntity).findOneBy({ tokenHash: hash });
    if (!spent) return;
    const sessions = this.db.getRepository(SessionEntity);
    const revoked = await sessions.update(
      { id: spent.sessionId, revokedAt: IsNull() },
      { revokedAt: new Date(), revokedReason: 'refresh_reuse' },
    );
    await this.revocations.revoke(spent.sessionId);
    const session = await sessions.findOne({ select: { id: true, userId: true }, where: { id: spent.sessionId } });
    await this.audit.record(
      {
        actorId: session?.userId ?? null,
        action: 'auth.refresh_reuse',
        targetType: 'session',
        targetId: spent.sessionId,
        metadata: { spentAt: spent.spentAt.toISOString(), sessionWasActive: revoked.affected === 1 },
      },
      client,
    );
  }

  private pair(accessToken: string, refreshToken: string): TokenPair {
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.config.auth.accessTokenTtlSeconds };
  }
}

function invalidRefreshToken(): UnauthorizedError {
  return new UnauthorizedError('The refresh token is not valid; log in again');
}

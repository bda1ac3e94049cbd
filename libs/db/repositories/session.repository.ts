import { In, IsNull, MoreThanOrEqual, Not, type EntityManager } from 'typeorm';
import { RefreshTokenEntity } from '../entities/refresh-token.entity';
import { SessionEntity, type SessionRevokedReason } from '../entities/session.entity';

export type NewSession = Pick<SessionEntity, 'id' | 'userId' | 'refreshTokenHash' | 'expiresAt' | 'ip' | 'userAgent'>;

/**
 * The sign-in sessions and their rotating refresh tokens: a session holds the hash of its current refresh token; the
 * ones it spent are kept (hashed) so that presenting one again can be recognised as reuse.
 */
export class SessionRepository {
  constructor(private readonly manager: EntityManager) {}

  private get sessions() {
    return this.manager.getRepository(SessionEntity);
  }

  private get spentTokens() {
    return this.manager.getRepository(RefreshTokenEntity);
  }

  async open(session: NewSession): Promise<void> {
    await this.sessions.insert({ ...session, revokedAt: null, revokedReason: null });
  }

  findById(id: string): Promise<SessionEntity | null> {
    return this.sessions.findOneBy({ id });
  }

  /** The session whose current refresh token has this hash. */
  findByRefreshTokenHash(hash: string): Promise<SessionEntity | null> {
    return this.sessions.findOneBy({ refreshTokenHash: hash });
  }

  /**
   * Moves a live session from the refresh token `spentHash` to `nextHash` and keeps the spent one, conditionally: of
   * two rotations with one token, exactly one gets true. Two statements: run it in a transaction.
   */
  async rotateRefreshToken(
    id: string,
    spentHash: string,
    nextHash: string,
    client: { ip: string | null; userAgent: string | null },
  ): Promise<boolean> {
    const moved = await this.sessions.update(
      { id, refreshTokenHash: spentHash, revokedAt: IsNull() },
      { refreshTokenHash: nextHash, ip: client.ip, userAgent: client.userAgent },
    );
    if (moved.affected !== 1) return false;
    await this.spentTokens.insert({ tokenHash: spentHash, sessionId: id, spentAt: new Date() });
    return true;
  }

  /** The spent refresh token with this hash, if a session ever rotated it away. */
  findSpentRefreshToken(hash: string): Promise<RefreshTokenEntity | null> {
    return this.spentTokens.findOneBy({ tokenHash: hash });
  }

  /** Ends a session; false when it had already ended. */
  async revoke(id: string, reason: SessionRevokedReason): Promise<boolean> {
    const revoked = await this.sessions.update(
      { id, revokedAt: IsNull() },
      { revokedAt: new Date(), revokedReason: reason },
    );
    return revoked.affected === 1;
  }

  /** The sessions revoked at or after `since` (to copy into Redis's revocation list after it lost its keys). */
  async revokedSince(since: Date): Promise<{ id: string; revokedAt: Date }[]> {
    const rows = await this.sessions.find({
      select: { id: true, revokedAt: true },
      where: { revokedAt: MoreThanOrEqual(since) },
    });
    return rows.flatMap(({ id, revokedAt }) => (revokedAt ? [{ id, revokedAt }] : []));
  }

  /**
   * Ends every live session of a user (but `except`), locking them first so a concurrent rotation waits; answers their
   * ids. Run it in a transaction, and tell the access-token denylist once it commits.
   */
  async revokeAllOfUser(userId: string, reason: SessionRevokedReason, except?: string): Promise<string[]> {
    const live = await this.sessions.find({
      select: { id: true },
      where: { userId, revokedAt: IsNull(), ...(except === undefined ? {} : { id: Not(except) }) },
      lock: { mode: 'pessimistic_write' },
    });
    const ids = live.map((session) => session.id);
    if (ids.length > 0) {
      await this.sessions.update({ id: In(ids) }, { revokedAt: new Date(), revokedReason: reason });
    }
    return ids;
  }
}

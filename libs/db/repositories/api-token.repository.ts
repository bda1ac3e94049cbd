import { IsNull, type EntityManager } from 'typeorm';
import { ApiTokenEntity } from '../entities/api-token.entity';
import type { UserRole } from '../entities/user.entity';

export type NewApiToken = Pick<
  ApiTokenEntity,
  'id' | 'userId' | 'name' | 'tokenHash' | 'prefix' | 'scopes' | 'expiresAt'
>;

/** A token with what its owner may do right now. */
export interface ApiTokenWithOwner {
  token: ApiTokenEntity;
  owner: { role: UserRole; disabled: boolean };
}

/** The scoped API tokens, stored as hashes of their secrets; revoked ones are kept. */
export class ApiTokenRepository {
  constructor(private readonly manager: EntityManager) {}

  private get tokens() {
    return this.manager.getRepository(ApiTokenEntity);
  }

  /** Inserts the token and answers the stored row. */
  async create(token: NewApiToken): Promise<ApiTokenEntity> {
    await this.tokens.insert({ ...token, lastUsedAt: null, revokedAt: null });
    return this.tokens.findOneByOrFail({ id: token.id });
  }

  /** A user's unrevoked tokens (expired ones included), newest first. */
  listLive(userId: string): Promise<ApiTokenEntity[]> {
    return this.tokens.find({ where: { userId, revokedAt: IsNull() }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** One of a user's unrevoked tokens (expired ones included); null for anyone else's, a revoked or unknown one. */
  findLive(id: string, userId: string): Promise<ApiTokenEntity | null> {
    return this.tokens.findOneBy({ id, userId, revokedAt: IsNull() });
  }

  /** Revokes one of a user's live tokens; false when the user has no such live token. */
  async revoke(id: string, userId: string): Promise<boolean> {
    const revoked = await this.tokens.update({ id, userId, revokedAt: IsNull() }, { revokedAt: new Date() });
    return revoked.affected === 1;
  }

  /** The token with this secret hash (revoked or expired ones too) and its owner's role and state, in one query. */
  async findWithOwnerByHash(tokenHash: string): Promise<ApiTokenWithOwner | null> {
    const found = await this.tokens
      .createQueryBuilder('t')
      .innerJoin('users', 'u', 'u.id = t.user_id')
      .addSelect(['u.role AS owner_role', 'u.disabled AS owner_disabled'])
      .where('t.token_hash = :hash', { hash: tokenHash })
      .getRawAndEntities<{ owner_role: UserRole; owner_disabled: number | boolean }>();
    const token = found.entities[0];
    const owner = found.raw[0];
    if (!token || !owner) return null;
    return { token, owner: { role: owner.owner_role, disabled: Boolean(Number(owner.owner_disabled)) } };
  }

  /**
   * Records a use at `at`, only if the stored time is before `staleBefore`: API instances racing each other write
   * once per interval.
   */
  async recordUse(id: string, at: Date, staleBefore: Date): Promise<void> {
    await this.tokens
      .createQueryBuilder()
      .update()
      .set({ lastUsedAt: at })
      .where('id = :id', { id })
      .andWhere('(last_used_at IS NULL OR last_used_at < :stale)', { stale: staleBefore })
      .execute();
  }
}

import { IsNull, type EntityManager } from 'typeorm';
import { MfaRecoveryCodeEntity } from '../entities/mfa-recovery-code.entity';
import { UserEntity, type UserRole } from '../entities/user.entity';
import type { KeysetPosition } from './keyset-position';

export type NewUser = Pick<UserEntity, 'id' | 'email' | 'displayName' | 'passwordHash' | 'role'>;

/** What decides whether a user may act right now: their current role and whether the account is disabled. */
export type AccountStanding = Pick<UserEntity, 'id' | 'role' | 'disabled'>;

export interface UserListFilter {
  /** Part of the address, case-insensitive; `%` and `_` are taken literally. */
  emailContains?: string;
  role?: UserRole;
  /** Only users listed after this one (newest first: created earlier, or at the same time with a smaller id). */
  after?: KeysetPosition;
}

/** The users and their second-factor recovery codes (stored as hashes, each spent once). */
export class UserRepository {
  constructor(private readonly manager: EntityManager) {}

  private get users() {
    return this.manager.getRepository(UserEntity);
  }

  private get recoveryCodes() {
    return this.manager.getRepository(MfaRecoveryCodeEntity);
  }

  /** Whether no account exists yet (the first one of an installation becomes its admin). */
  async isEmpty(): Promise<boolean> {
    return (await this.users.count()) === 0;
  }

  /** Inserts the user and answers the stored row; a taken email fails with a duplicate-key error. */
  async create(user: NewUser): Promise<UserEntity> {
    await this.users.insert(this.users.create({ ...user }));
    return this.users.findOneByOrFail({ id: user.id });
  }

  /** With `lock`, the row stays locked (FOR UPDATE) until the transaction ends. */
  findById(id: string, options: { lock?: boolean } = {}): Promise<UserEntity | null> {
    return this.users.findOne({
      where: { id },
      ...(options.lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  /**
   * The account with exactly this (lower-cased) address. The column's collation ignores case and accents, so the
   * look-up alone would also find look-alike spellings; those neither log in nor reach the real address's lockout.
   */
  async findByEmail(email: string): Promise<UserEntity | null> {
    const found = await this.users.findOneBy({ email });
    return found?.email === email ? found : null;
  }

  findStanding(id: string): Promise<AccountStanding | null> {
    return this.users.findOne({ where: { id }, select: { id: true, role: true, disabled: true } });
  }

  /** Newest first, at most `limit` users. */
  list(filter: UserListFilter, limit: number): Promise<UserEntity[]> {
    const qb = this.users
      .createQueryBuilder('u')
      .orderBy('u.created_at', 'DESC')
      .addOrderBy('u.id', 'DESC')
      .take(limit);
    if (filter.emailContains) {
      qb.andWhere("u.email LIKE :email ESCAPE '!'", {
        email: `%${filter.emailContains.trim().toLowerCase().replace(/[!%_]/g, '!$&')}%`,
      });
    }
    if (filter.role) qb.andWhere('u.role = :role', { role: filter.role });
    if (filter.after) {
      qb.andWhere('(u.created_at < :at OR (u.created_at = :at AND u.id < :id))', {
        at: filter.after.at,
        id: filter.after.id,
      });
    }
    return qb.getMany();
  }

  /** Replaces the password hash only if it is still `expectedHash`; false when another change came first. */
  async changePasswordHash(id: string, expectedHash: string, passwordHash: string): Promise<boolean> {
    const changed = await this.users.update({ id, passwordHash: expectedHash }, { passwordHash });
    return changed.affected === 1;
  }

  /**
   * Deletes the account; its sessions, API tokens, recovery codes, shares and feedback go with it (foreign keys
   * cascade). Whether there was one. The audit log keeps its id.
   */
  async remove(id: string): Promise<boolean> {
    const deleted = await this.users.delete({ id });
    return deleted.affected === 1;
  }

  async updateAccess(id: string, changes: { role?: UserRole; disabled?: boolean }): Promise<void> {
    await this.users.update({ id }, changes);
  }

  /** Stores a new pending TOTP secret (sealed) while 2FA is off; false when it is on. */
  async setPendingMfaSecret(id: string, sealedSecret: string): Promise<boolean> {
    const changed = await this.users.update({ id, mfaEnabled: false }, { mfaSecret: sealedSecret });
    return changed.affected === 1;
  }

  /**
   * Turns 2FA on with the pending secret a code was checked against, remembering that code's step; false when 2FA
   * is already on or the pending secret changed meanwhile.
   */
  async enableMfa(id: string, pendingSecret: string, lastStep: number): Promise<boolean> {
    const changed = await this.users.update(
      { id, mfaEnabled: false, mfaSecret: pendingSecret },
      { mfaEnabled: true, mfaLastStep: lastStep },
    );
    return changed.affected === 1;
  }

  /**
   * Records that a TOTP code of `step` was accepted, only if no code of that step or a later one was: of two requests
   * with one code, exactly one gets true.
   */
  async advanceMfaStep(id: string, step: number): Promise<boolean> {
    const moved = await this.users
      .createQueryBuilder()
      .update()
      .set({ mfaLastStep: step })
      .where('id = :id AND mfa_enabled = 1 AND (mfa_last_step IS NULL OR mfa_last_step < :step)', { id, step })
      .execute();
    return moved.affected === 1;
  }

  /** Turns 2FA off and wipes the secret and the last step; false when it was not on. */
  async disableMfa(id: string): Promise<boolean> {
    const changed = await this.users.update(
      { id, mfaEnabled: true },
      { mfaEnabled: false, mfaSecret: null, mfaLastStep: null },
    );
    return changed.affected === 1;
  }

  /** The user's recovery codes become exactly these (SHA-256 hashes), all unused. */
  async replaceRecoveryCodes(userId: string, codeHashes: readonly string[]): Promise<void> {
    await this.deleteRecoveryCodes(userId);
    await this.recoveryCodes.insert(codeHashes.map((codeHash) => ({ userId, codeHash })));
  }

  async deleteRecoveryCodes(userId: string): Promise<void> {
    await this.recoveryCodes.delete({ userId });
  }

  /** Marks an unused recovery code used; false when there is no such code or it was spent before. */
  async spendRecoveryCode(userId: string, codeHash: string): Promise<boolean> {
    const spent = await this.recoveryCodes.update({ userId, codeHash, usedAt: IsNull() }, { usedAt: new Date() });
    return spent.affected === 1;
  }

  countUnusedRecoveryCodes(userId: string): Promise<number> {
    return this.recoveryCodes.countBy({ userId, usedAt: IsNull() });
  }
}

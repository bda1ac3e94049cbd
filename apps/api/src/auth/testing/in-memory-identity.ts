import { QueryFailedError } from 'typeorm';
import { AuditWriter } from '#libs/audit/audit-writer';
import { AccessTokenCodec } from '#libs/auth/access-token';
import { PasswordHasher } from '#libs/auth/password-hasher';
import { SecretBox } from '#libs/auth/secret-box';
import type { AppConfig, Registration } from '#libs/config/app-config';
import type { Database, Repositories } from '#libs/db/database';
import type { ApiTokenEntity } from '#libs/db/entities/api-token.entity';
import type { InvitationEntity } from '#libs/db/entities/invitation.entity';
import type { MfaRecoveryCodeEntity } from '#libs/db/entities/mfa-recovery-code.entity';
import type { RefreshTokenEntity } from '#libs/db/entities/refresh-token.entity';
import type { SessionEntity } from '#libs/db/entities/session.entity';
import type { UserEntity, UserRole } from '#libs/db/entities/user.entity';
import type { ApiTokenRepository } from '#libs/db/repositories/api-token.repository';
import type { NewAuditRow } from '#libs/db/repositories/audit-log.repository';
import type { InvitationRepository } from '#libs/db/repositories/invitation.repository';
import { InMemoryAuditLogRepository } from '#libs/db/testing/in-memory-audit-log.repository';
import type { SessionRepository } from '#libs/db/repositories/session.repository';
import type { UserRepository } from '#libs/db/repositories/user.repository';
import type { ClientInfo } from '../../common/client-info';
import { AuthService } from '../auth.service';
import { TwoFactorService } from '../mfa/two-factor.service';
import { SessionService } from '../session.service';
import type { PublicOf } from './public-of';
import { FakeLoginLockout, FakeSessionRevocations } from './redis-free-fakes';

export const CLIENT: ClientInfo = { ip: '203.0.113.7', userAgent: 'unit-spec', requestId: 'req-1' };

/** Only what the identity services read. */
export const TEST_CONFIG = {
  auth: { accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 30 * 86_400, registration: 'open' },
} as AppConfig;

export const testCodec = () =>
  new AccessTokenCodec({
    keys: [{ id: 'k1', key: new Uint8Array(32).fill(3) }],
    currentKeyId: 'k1',
    issuer: 'gigachat-test',
    audience: 'gigachat-test',
    ttlSeconds: 900,
  });

/** bcrypt at its lowest cost: real hashing, fast enough for unit specs. */
export const testHasher = () => new PasswordHasher('unit-spec-pepper-0123456789', 4);
export const testSecretBox = () => new SecretBox(new Uint8Array(32).fill(9));

/**
 * For unit specs: the users, recovery codes, sessions, spent refresh tokens, API tokens and audit rows of the identity
 * services held in memory, behind the same repository methods (all of them: each fake is checked against the real
 * class's public methods). A transaction runs its work on the live maps and puts back a copy when the work throws,
 * as a database would roll back; a row lock outside one is refused, as TypeORM refuses it. Conditional updates behave
 * like their SQL (false when the row moved on).
 */
export class InMemoryIdentity {
  readonly users = new Map<string, UserEntity>();
  readonly recoveryCodes: MfaRecoveryCodeEntity[] = [];
  readonly sessions = new Map<string, SessionEntity>();
  readonly spentTokens = new Map<string, RefreshTokenEntity>();
  readonly apiTokens = new Map<string, ApiTokenEntity>();
  readonly invitations = new Map<string, InvitationEntity>();
  private readonly auditLog = new InMemoryAuditLogRepository();
  /** The audit rows written, oldest first. */
  readonly audit: NewAuditRow[] = this.auditLog.rows;
  private clock = 0;

  /** Rows created in order get increasing times, so "newest first" is well defined. */
  private now(): Date {
    this.clock += 1;
    return new Date(Date.UTC(2026, 0, 1) + this.clock * 1000);
  }

  addUser(fields: Partial<UserEntity> & { id: string; email: string }): UserEntity {
    const now = this.now();
    const row: UserEntity = {
      displayName: 'Test User',
      passwordHash: '$2b$04$not.a.real.hash',
      role: 'user',
      disabled: false,
      mfaEnabled: false,
      mfaSecret: null,
      mfaLastStep: null,
      createdAt: now,
      updatedAt: now,
      ...fields,
    };
    this.users.set(row.id, row);
    return row;
  }

  auditActions(): string[] {
    return this.audit.map((row) => row.action);
  }

  database(): Database {
    return {
      ...this.repositories(false),
      transaction: (work) => this.transaction(work),
      ping: async () => undefined,
    };
  }

  private async transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    const saved = this.snapshot();
    try {
      return await work(this.repositories(true));
    } catch (error) {
      this.restore(saved);
      throw error;
    }
  }

  private snapshot() {
    const copy = <V>(map: Map<string, V>) => new Map([...map].map(([k, v]) => [k, structuredClone(v)]));
    return {
      users: copy(this.users),
      recoveryCodes: structuredClone(this.recoveryCodes),
      sessions: copy(this.sessions),
      spentTokens: copy(this.spentTokens),
      apiTokens: copy(this.apiTokens),
      invitations: copy(this.invitations),
      audit: [...this.audit],
    };
  }

  /** In place: the repositories handed out before hold these very maps. */
  private restore(saved: ReturnType<InMemoryIdentity['snapshot']>): void {
    const refill = <V>(map: Map<string, V>, from: Map<string, V>) => {
      map.clear();
      for (const [k, v] of from) map.set(k, v);
    };
    refill(this.users, saved.users);
    refill(this.sessions, saved.sessions);
    refill(this.spentTokens, saved.spentTokens);
    refill(this.apiTokens, saved.apiTokens);
    refill(this.invitations, saved.invitations);
    this.recoveryCodes.splice(0, this.recoveryCodes.length, ...saved.recoveryCodes);
    this.audit.splice(0, this.audit.length, ...saved.audit);
  }

  /** `inTransaction` false: a row lock is refused, as TypeORM refuses a pessimistic lock outside a transaction. */
  private repositories(inTransaction: boolean): Repositories {
    return {
      users: this.userRepository(inTransaction),
      sessions: this.sessionRepository(inTransaction),
      apiTokens: this.apiTokenRepository(),
      invitations: this.invitationRepository(inTransaction),
      audit: this.auditLog,
    } as unknown as Repositories;
  }

  private userRepository(inTransaction: boolean): PublicOf<UserRepository> {
    const users = this.users;
    const update = (id: string, when: (row: UserEntity) => boolean, fields: Partial<UserEntity>): boolean => {
      const row = users.get(id);
      if (!row || !when(row)) return false;
      Object.assign(row, fields, { updatedAt: this.now() });
      return true;
    };
    return {
      isEmpty: async () => users.size === 0,
      create: async (user) => {
        if ([...users.values()].some((row) => row.email === user.email)) throw duplicateKey('users.email');
        return clone(this.addUser(user))!;
      },
      findById: async (id, options = {}) => {
        if (options.lock && !inTransaction) throw lockOutsideTransaction();
        return clone(users.get(id));
      },
      findByEmail: async (email) => clone([...users.values()].find((row) => row.email === email)),
      findStanding: async (id) => {
        const row = users.get(id);
        return row ? { id: row.id, role: row.role, disabled: row.disabled } : null;
      },
      list: async (filter, limit) =>
        [...users.values()]
          .filter((row) => !filter.emailContains || row.email.includes(filter.emailContains.trim().toLowerCase()))
          .filter((row) => !filter.role || row.role === filter.role)
          .filter((row) => !filter.after || newestFirst(row, { createdAt: filter.after.at, id: filter.after.id }) > 0)
          .sort((a, b) => newestFirst(a, b))
          .slice(0, limit)
          .map((row) => structuredClone(row)),
      changePasswordHash: async (id, expectedHash, passwordHash) =>
        update(id, (row) => row.passwordHash === expectedHash, { passwordHash }),
      remove: async (id) => users.delete(id),
      updateAccess: async (id, changes: { role?: UserRole; disabled?: boolean }) => {
        update(id, () => true, changes);
      },
      setPendingMfaSecret: async (id, sealedSecret) =>
        update(id, (row) => !row.mfaEnabled, { mfaSecret: sealedSecret }),
      enableMfa: async (id, pendingSecret, lastStep) =>
        update(id, (row) => !row.mfaEnabled && row.mfaSecret === pendingSecret, {
          mfaEnabled: true,
          mfaLastStep: lastStep,
        }),
      advanceMfaStep: async (id, step) =>
        update(id, (row) => row.mfaEnabled && (row.mfaLastStep === null || row.mfaLastStep < step), {
          mfaLastStep: step,
        }),
      disableMfa: async (id) =>
        update(id, (row) => row.mfaEnabled, { mfaEnabled: false, mfaSecret: null, mfaLastStep: null }),
      replaceRecoveryCodes: async (userId, codeHashes) => {
        this.dropRecoveryCodes(userId);
        for (const codeHash of codeHashes) {
          this.recoveryCodes.push({ userId, codeHash, usedAt: null, createdAt: this.now() });
        }
      },
      deleteRecoveryCodes: async (userId) => {
        this.dropRecoveryCodes(userId);
      },
      spendRecoveryCode: async (userId, codeHash) => {
        const code = this.recoveryCodes.find((c) => c.userId === userId && c.codeHash === codeHash && !c.usedAt);
        if (!code) return false;
        code.usedAt = new Date();
        return true;
      },
      countUnusedRecoveryCodes: async (userId) =>
        this.recoveryCodes.filter((code) => code.userId === userId && !code.usedAt).length,
    };
  }

  private dropRecoveryCodes(userId: string): void {
    const kept = this.recoveryCodes.filter((code) => code.userId !== userId);
    this.recoveryCodes.splice(0, this.recoveryCodes.length, ...kept);
  }

  private sessionRepository(inTransaction: boolean): PublicOf<SessionRepository> {
    const sessions = this.sessions;
    const revoke = (row: SessionEntity, reason: SessionEntity['revokedReason']) =>
      Object.assign(row, { revokedAt: new Date(), revokedReason: reason });
    return {
      open: async (session) => {
        sessions.set(session.id, { ...session, revokedAt: null, revokedReason: null, createdAt: this.now() });
      },
      findById: async (id) => clone(sessions.get(id)),
      findByRefreshTokenHash: async (hash) => clone([...sessions.values()].find((s) => s.refreshTokenHash === hash)),
      rotateRefreshToken: async (id, spentHash, nextHash, client) => {
        const row = sessions.get(id);
        if (!row || row.refreshTokenHash !== spentHash || row.revokedAt) return false;
        Object.assign(row, { refreshTokenHash: nextHash, ip: client.ip, userAgent: client.userAgent });
        this.spentTokens.set(spentHash, { tokenHash: spentHash, sessionId: id, spentAt: new Date() });
        return true;
      },
      findSpentRefreshToken: async (hash) => clone(this.spentTokens.get(hash)),
      revoke: async (id, reason) => {
        const row = sessions.get(id);
        if (!row || row.revokedAt) return false;
        revoke(row, reason);
        return true;
      },
      revokedSince: async (since) =>
        [...sessions.values()].flatMap(({ id, revokedAt }) =>
          revokedAt && revokedAt >= since ? [{ id, revokedAt: new Date(revokedAt) }] : [],
        ),
      revokeAllOfUser: async (userId, reason, except) => {
        if (!inTransaction) throw lockOutsideTransaction();
        const live = [...sessions.values()].filter((s) => s.userId === userId && !s.revokedAt && s.id !== except);
        for (const row of live) revoke(row, reason);
        return live.map((row) => row.id);
      },
    };
  }

  private invitationRepository(inTransaction: boolean): PublicOf<InvitationRepository> {
    const invitations = this.invitations;
    return {
      create: async (invitation) => {
        invitations.set(invitation.id, { ...invitation, acceptedAt: null, acceptedBy: null, createdAt: this.now() });
        return clone(invitations.get(invitation.id))!;
      },
      findByCodeHash: async (codeHash, options = {}) => {
        if (options.lock && !inTransaction) throw lockOutsideTransaction();
        return clone([...invitations.values()].find((row) => row.codeHash === codeHash));
      },
      markAccepted: async (id, userId) => {
        const row = invitations.get(id);
        if (!row || row.acceptedAt) return false;
        Object.assign(row, { acceptedAt: new Date(), acceptedBy: userId });
        return true;
      },
      listOpen: async (now) =>
        [...invitations.values()]
          .filter((row) => !row.acceptedAt && row.expiresAt > now)
          .sort((a, b) => newestFirst(a, b))
          .map((row) => structuredClone(row)),
    };
  }

  private apiTokenRepository(): PublicOf<ApiTokenRepository> {
    const tokens = this.apiTokens;
    return {
      create: async (token) => {
        tokens.set(token.id, { ...token, lastUsedAt: null, revokedAt: null, createdAt: this.now() });
        return clone(tokens.get(token.id))!;
      },
      listLive: async (userId) =>
        [...tokens.values()]
          .filter((t) => t.userId === userId && !t.revokedAt)
          .sort((a, b) => newestFirst(a, b))
          .map((t) => structuredClone(t)),
      findLive: async (id, userId) => {
        const row = tokens.get(id);
        return row && row.userId === userId && !row.revokedAt ? structuredClone(row) : null;
      },
      revoke: async (id, userId) => {
        const row = tokens.get(id);
        if (!row || row.userId !== userId || row.revokedAt) return false;
        row.revokedAt = new Date();
        return true;
      },
      findWithOwnerByHash: async (tokenHash) => {
        const token = [...tokens.values()].find((t) => t.tokenHash === tokenHash);
        const owner = token && this.users.get(token.userId);
        if (!token || !owner) return null;
        return { token: structuredClone(token), owner: { role: owner.role, disabled: owner.disabled } };
      },
      recordUse: async (id, at, staleBefore) => {
        const row = tokens.get(id);
        if (row && (!row.lastUsedAt || row.lastUsedAt < staleBefore)) row.lastUsedAt = at;
      },
    };
  }
}

function clone<T>(value: T | undefined): T | null {
  return value === undefined ? null : structuredClone(value);
}

/** Negative when `a` comes first in a newest-first listing (later creation, then larger id). */
function newestFirst(a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

function lockOutsideTransaction(): Error {
  return new Error('A row lock needs a transaction (TypeORM: PessimisticLockTransactionRequiredError)');
}

function duplicateKey(key: string): QueryFailedError {
  return new QueryFailedError(
    'INSERT',
    [],
    Object.assign(new Error(`Duplicate entry for key '${key}'`), { code: 'ER_DUP_ENTRY' }),
  );
}

/** Holds `Date` at a Unix time (undo with `jest.useRealTimers()`); only `Date`: bcrypt's callbacks and promises run as usual. */
export function freezeClock(epochSeconds: number): void {
  jest.useFakeTimers({
    now: epochSeconds * 1000,
    doNotFake: [
      'nextTick',
      'setImmediate',
      'clearImmediate',
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'queueMicrotask',
      'hrtime',
      'performance',
    ],
  });
}

/** The identity services wired as AuthModule wires them, over one in-memory store and Redis-free fakes. */
export function identityKit(options: { maxFailures?: number; registration?: Registration } = {}) {
  const store = new InMemoryIdentity();
  const db = store.database();
  const audit = new AuditWriter(db);
  const lockout = new FakeLoginLockout(options.maxFailures);
  const revocations = new FakeSessionRevocations();
  const codec = testCodec();
  const box = testSecretBox();
  const sessions = new SessionService(db, TEST_CONFIG, codec, revocations.asRevocations(), audit);
  const twoFactor = new TwoFactorService(db, box, audit);
  const auth = new AuthService(
    db,
    testHasher(),
    sessions,
    twoFactor,
    revocations.asRevocations(),
    lockout.asLockout(),
    audit,
    { auth: { ...TEST_CONFIG.auth, registration: options.registration ?? 'open' } },
  );
  return { store, db, audit, lockout, revocations, codec, box, sessions, twoFactor, auth };
}

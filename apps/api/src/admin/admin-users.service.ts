import { Inject, Injectable } from '@nestjs/common';
import { AuditEntry, AuditWriter } from '#libs/audit/audit-writer';
import type { Database } from '#libs/db/database';
import type { UserListFilter } from '#libs/db/repositories/user.repository';
import { ConflictError, NotFoundError, ValidationError } from '#libs/errors/app-error';
import type { Principal } from '../auth/principal';
import { SessionRevocations } from '../auth/session-revocations';
import type { ClientInfo } from '../common/client-info';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { DATABASE } from '../infra/di-symbols';
import { LoginLockout } from '../security/login-lockout';
import { AdminUserPage, AdminUserView, toAdminUserView } from './admin-user.view';
import type { ListUsersQuery } from './dto/list-users.query';
import type { UpdateUserDto } from './dto/update-user.dto';

/** Who changes an account: an admin's principal, or the operator through the CLI (no user: `userId` null). */
export type AccountChanger = { userId: string | null };

/** Users read per query when filtering by lockout state (which lives in Redis, not in the table). */
const LOCK_SCAN_BATCH = 200;

/** What administrators may do to other accounts: list them, change role or disabled state, lift lockouts. */
@Injectable()
export class AdminUsersService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly lockout: LoginLockout,
    private readonly revocations: SessionRevocations,
    private readonly audit: AuditWriter,
  ) {}

  /**
   * Users, newest first, filtered by email substring, role and lockout state. The lockout filter is applied to
   * batches read in page order, so paging stays exact: the cursor is the last user returned.
   */
  async list(query: ListUsersQuery): Promise<AdminUserPage> {
    const limit = query.limit ?? 50;
    const cursor = decodeCursor(query.cursor);
    const filter: UserListFilter = {
      emailContains: query.email,
      role: query.role,
      after: cursor ? { at: new Date(cursor.at), id: cursor.id } : undefined,
    };
    const batch = query.locked === undefined ? limit + 1 : Math.max(limit + 1, LOCK_SCAN_BATCH);
    const items: AdminUserView[] = [];
    let more = false;
    for (;;) {
      const rows = await this.db.users.list(filter, batch);
      const locks = await Promise.all(rows.map((user) => this.lockout.status(user.email)));
      for (const [index, user] of rows.entries()) {
        const lock = locks[index]!;
        if (query.locked !== undefined && lock.locked !== query.locked) continue;
        if (items.length === limit) {
          more = true;
          break;
        }
        items.push(toAdminUserView(user, lock));
      }
      const last = rows.at(-1);
      if (more || rows.length < batch || !last) break;
      filter.after = { at: last.createdAt, id: last.id };
    }
    const last = items.at(-1);
    return { items, nextCursor: more && last ? encodeCursor({ at: last.createdAt, id: last.id }) : null };
  }

  /**
   * Changes a user's role and/or disabled state. Demoting or disabling ends every live session of the account at
   * once (database and Redis); its API tokens stop working through the guard's checks. An admin cannot demote or
   * disable themselves (409). Audited `user.role_changed`, `user.disabled`, `user.enabled`, with the admin as actor
   * (none for the operator CLI).
   */
  async update(userId: string, dto: UpdateUserDto, admin: AccountChanger, client: ClientInfo): Promise<AdminUserView> {
    if (dto.role === undefined && dto.disabled === undefined) {
      throw new ValidationError([{ field: '(body)', message: 'must change role or disabled' }]);
    }
    const revoked = await this.db.transaction(async (tx) => {
      const user = await tx.users.findById(userId, { lock: true });
      if (!user) throw new NotFoundError('The user');
      const roleChange = dto.role !== undefined && dto.role !== user.role ? dto.role : undefined;
      const disabledChange = dto.disabled !== undefined && dto.disabled !== user.disabled ? dto.disabled : undefined;
      if (user.id === admin.userId && (roleChange === 'user' || disabledChange === true)) {
        throw new ConflictError('You cannot demote or disable your own account; ask another admin');
      }
      if (roleChange === undefined && disabledChange === undefined) return [];

      await tx.users.updateAccess(user.id, {
        ...(roleChange ? { role: roleChange } : {}),
        ...(disabledChange !== undefined ? { disabled: disabledChange } : {}),
      });
      const events: AuditEntry[] = [];
      if (roleChange) {
        events.push({
          actorId: admin.userId,
          action: 'user.role_changed',
          targetType: 'user',
          targetId: user.id,
          metadata: { from: user.role, to: roleChange },
        });
      }
      if (disabledChange !== undefined) {
        events.push({
          actorId: admin.userId,
          action: disabledChange ? 'user.disabled' : 'user.enabled',
          targetType: 'user',
          targetId: user.id,
        });
      }
      let ids: string[] = [];
      if (roleChange === 'user' || disabledChange === true) {
        ids = await tx.sessions.revokeAllOfUser(user.id, disabledChange ? 'user_disabled' : 'user_demoted');
        for (const event of events) event.metadata = { ...event.metadata, revokedSessions: ids.length };
      }
      for (const event of events) await this.audit.record({ ...event, ...client }, tx);
      return ids;
    });
    await this.revocations.revokeMany(revoked);
    const user = await this.db.users.findById(userId);
    if (!user) throw new NotFoundError('The user');
    return toAdminUserView(user, await this.lockout.status(user.email));
  }

  /** Lifts a login lockout and forgets the failed attempts; audited as `auth.unlocked` either way. */
  async unlock(userId: string, admin: Principal, client: ClientInfo): Promise<void> {
    const user = await this.db.users.findById(userId);
    if (!user) throw new NotFoundError('The user');
    const wasLocked = await this.lockout.unlock(user.email);
    await this.audit.record({
      actorId: admin.userId,
      action: 'auth.unlocked',
      targetType: 'user',
      targetId: user.id,
      metadata: { wasLocked },
      ...client,
    });
  }
}

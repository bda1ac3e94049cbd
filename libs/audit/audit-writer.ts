import type { Database, Repositories } from '../db/database';

/** One entry of the append-only audit log. */
export interface AuditEntry {
  /** The user who acted; null for anonymous attempts (an unknown email) and the system. */
  actorId: string | null;
  /** `<domain>.<what happened>`: `auth.login`, `turn.completed`, `file.deleted` … */
  action: string;
  targetType?: string;
  targetId?: string;
  /** Ids and counts only: never message text, secrets or tokens. */
  metadata?: Record<string, unknown>;
  requestId?: string | null;
  /** The client of the request (absent for the worker's own steps). */
  ip?: string | null;
  userAgent?: string | null;
}

/**
 * The one writer of the audit log, for the API's services and the worker's activities alike. There is deliberately no
 * update or delete (and the table's triggers refuse both). Pass `tx` to write inside the caller's transaction.
 * `observe` hears every row written (the metrics count audited events by action); inside a caller's transaction it
 * hears the row when it is written, before the commit.
 */
export class AuditWriter {
  constructor(
    private readonly db: Pick<Database, 'audit' | 'transaction'>,
    private readonly observe?: (entry: AuditEntry) => void,
  ) {}

  async record(entry: AuditEntry, tx?: Repositories): Promise<void> {
    await (tx ?? this.db).audit.append({
      actorId: entry.actorId,
      action: entry.action,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      ip: entry.ip ?? null,
      userAgent: entry.userAgent ?? null,
      requestId: entry.requestId ?? null,
      metadata: entry.metadata ?? null,
    });
    this.observe?.(entry);
  }

  /**
   * Records the entry unless one of the same action on the same target exists: for steps that may run again (a
   * retried activity, a replayed workflow). Returns whether it wrote. The check and the write share a transaction: the
   * caller's `tx`, or one of its own.
   */
  async recordOnce(entry: AuditEntry & { targetType: string; targetId: string }, tx?: Repositories): Promise<boolean> {
    const write = async (repos: Repositories): Promise<boolean> => {
      if (await repos.audit.exists(entry.action, entry.targetType, entry.targetId)) return false;
      await this.record(entry, repos);
      return true;
    };
    return tx ? write(tx) : this.db.transaction(write);
  }
}

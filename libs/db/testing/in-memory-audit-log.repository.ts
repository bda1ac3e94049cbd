import type { AuditLogRepository, NewAuditRow } from '#libs/db/repositories/audit-log.repository';

/** The write side of the audit log in memory (what AuditWriter uses), for unit specs. */
export class InMemoryAuditLogRepository implements Pick<AuditLogRepository, 'append' | 'exists'> {
  readonly rows: NewAuditRow[] = [];

  append(row: NewAuditRow): Promise<void> {
    this.rows.push(row);
    return Promise.resolve();
  }

  exists(action: string, targetType: string, targetId: string): Promise<boolean> {
    return Promise.resolve(
      this.rows.some((row) => row.action === action && row.targetType === targetType && row.targetId === targetId),
    );
  }
}

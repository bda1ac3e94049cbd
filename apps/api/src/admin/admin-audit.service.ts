import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '#libs/db/database';
import { ValidationError } from '#libs/errors/app-error';
import { DATABASE } from '../infra/di-symbols';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor';
import { AuditPage, toAuditEntryView } from './audit-entry.view';
import type { ListAuditQuery } from './dto/list-audit.query';

/** Reads the append-only audit log for administrators, newest first. */
@Injectable()
export class AdminAuditService {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async list(query: ListAuditQuery): Promise<AuditPage> {
    const limit = query.limit ?? 50;
    const cursor = decodeAuditCursor(query.cursor);
    const from = query.from === undefined ? undefined : new Date(query.from);
    const to = query.to === undefined ? undefined : new Date(query.to);
    const problems = [
      ...(from && Number.isNaN(from.getTime()) ? [{ field: 'from', message: 'is not a valid date-time' }] : []),
      ...(to && Number.isNaN(to.getTime()) ? [{ field: 'to', message: 'is not a valid date-time' }] : []),
    ];
    if (problems.length > 0) throw new ValidationError(problems);

    const rows = await this.db.audit.list(
      { actorId: query.actor?.toLowerCase(), action: query.action, targetId: query.target, from, to, beforeId: cursor },
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toAuditEntryView),
      nextCursor: rows.length > limit && last ? encodeAuditCursor(String(last.id)) : null,
    };
  }
}

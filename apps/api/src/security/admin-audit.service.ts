import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AuditLogEntity } from '#libs/db/entities/audit-log.entity';
import { ValidationError } from '#libs/errors/app-error';
import { DATA_SOURCE } from '../infra/tokens';
import { decodeAuditCursor, encodeAuditCursor } from './audit-cursor';
import { AuditPage, toAuditEntryView } from './audit-entry.view';
import type { ListAuditQuery } from './dto/list-audit.query';

/** Reads the append-only audit log for administrators, newest first. */
@Injectable()
export class AdminAuditService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

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

    const qb = this.db
      .getRepository(AuditLogEntity)
      .createQueryBuilder('a')
      .orderBy('a.id', 'DESC')
      .take(limit + 1);
    if (query.actor) qb.andWhere('a.actor_id = :actor', { actor: query.actor.toLowerCase() });
    if (query.action) qb.andWhere('a.action = :action', { action: query.action });
    if (query.target) qb.andWhere('a.target_id = :target', { target: query.target });
    if (from) qb.andWhere('a.created_at >= :from', { from });
    if (to) qb.andWhere('a.created_at < :to', { to });
    if (cursor) qb.andWhere('a.id < CAST(:cursor AS UNSIGNED)', { cursor });
    const rows = await qb.getMany();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toAuditEntryView),
      nextCursor: rows.length > limit && last ? encodeAuditCursor(String(last.id)) : null,
    };
  }
}

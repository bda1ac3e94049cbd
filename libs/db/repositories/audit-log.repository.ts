import type { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AuditLogEntity } from '../entities/audit-log.entity';
import { insertAsGiven } from './insert-as-given';

export type NewAuditRow = Omit<AuditLogEntity, 'id' | 'createdAt'>;

export interface AuditLogFilter {
  actorId?: string;
  action?: string;
  targetId?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** Rows older than this id (the page cursor). */
  beforeId?: string;
}

/** The append-only audit log (database triggers refuse UPDATE and DELETE): rows go in, never change. */
export class AuditLogRepository {
  constructor(private readonly manager: EntityManager) {}

  async append(row: NewAuditRow): Promise<void> {
    await insertAsGiven(this.manager, AuditLogEntity, row as QueryDeepPartialEntity<AuditLogEntity>);
  }

  /** Whether a row of this action on this target exists (steps that may run twice audit once). */
  exists(action: string, targetType: string, targetId: string): Promise<boolean> {
    return this.manager.getRepository(AuditLogEntity).exists({ where: { action, targetType, targetId } });
  }

  /** Newest first, at most `limit` rows. */
  list(filter: AuditLogFilter, limit: number): Promise<AuditLogEntity[]> {
    const qb = this.manager.getRepository(AuditLogEntity).createQueryBuilder('a').orderBy('a.id', 'DESC').take(limit);
    if (filter.actorId) qb.andWhere('a.actor_id = :actor', { actor: filter.actorId });
    if (filter.action) qb.andWhere('a.action = :action', { action: filter.action });
    if (filter.targetId) qb.andWhere('a.target_id = :target', { target: filter.targetId });
    if (filter.from) qb.andWhere('a.created_at >= :from', { from: filter.from });
    if (filter.to) qb.andWhere('a.created_at < :to', { to: filter.to });
    if (filter.beforeId) qb.andWhere('a.id < CAST(:cursor AS UNSIGNED)', { cursor: filter.beforeId });
    return qb.getMany();
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AuditLogEntity } from '#libs/db/entities/audit-log.entity';
import type { ClientInfo } from '../common/client-info';
import { DATA_SOURCE } from '../infra/tokens';

export interface AuditEvent {
  actorId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  metadata?: Record<string, unknown>;
}

/** Appends to the audit log. There is deliberately no update or delete here (and the table's triggers refuse both). */
@Injectable()
export class AuditService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  async record(event: AuditEvent, client: ClientInfo, manager: EntityManager = this.db.manager): Promise<void> {
    await manager.getRepository(AuditLogEntity).insert({
      actorId: event.actorId,
      action: event.action,
      targetType: event.targetType ?? null,
      targetId: event.targetId ?? null,
      metadata: event.metadata ?? null,
      ip: client.ip,
      userAgent: client.userAgent,
      requestId: client.requestId,
    } as QueryDeepPartialEntity<AuditLogEntity>);
  }
}

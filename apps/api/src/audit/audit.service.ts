import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditWriter } from '#libs/audit/audit-writer';
import { repositoriesFor } from '#libs/db/database';
import type { ClientInfo } from '../common/client-info';

export interface AuditEvent {
  actorId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  metadata?: Record<string, unknown>;
}

/** TRANSITIONAL: services still on EntityManager write through this; it hands everything to the AuditWriter. */
@Injectable()
export class AuditService {
  constructor(private readonly writer: AuditWriter) {}

  async record(event: AuditEvent, client: ClientInfo, manager?: EntityManager): Promise<void> {
    await this.writer.record({ ...event, ...client }, manager ? repositoriesFor(manager) : undefined);
  }
}

import { ApiProperty } from '@nestjs/swagger';
import type { AuditLogEntity } from '#libs/db/entities/audit-log.entity';

export class AuditEntryView {
  @ApiProperty({ description: 'Increasing; the page order (newest first)' })
  id!: string;

  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  actorId!: string | null;

  @ApiProperty({ example: 'auth.login' })
  action!: string;

  @ApiProperty({ type: String, nullable: true })
  targetType!: string | null;

  @ApiProperty({ type: String, nullable: true })
  targetId!: string | null;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent!: string | null;

  @ApiProperty({ type: String, nullable: true })
  requestId!: string | null;

  @ApiProperty({ type: Object, nullable: true })
  metadata!: Record<string, unknown> | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class AuditPage {
  @ApiProperty({ type: AuditEntryView, isArray: true })
  items!: AuditEntryView[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export function toAuditEntryView(row: AuditLogEntity): AuditEntryView {
  return {
    id: String(row.id),
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    metadata: row.metadata,
    createdAt: row.createdAt.toISOString(),
  };
}

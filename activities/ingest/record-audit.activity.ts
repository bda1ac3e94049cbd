import type { IngestFileRef } from '#libs/contracts/ingest-file.contract';
import type { IngestActivityDeps } from './ingest-deps';

export type RecordAuditDeps = Pick<IngestActivityDeps, 'audit'>;

export function createRecordAudit(deps: RecordAuditDeps) {
  return {
    /** One audit row per file and action; a retried activity (or a replayed run) does not add a second. */
    async recordAudit(args: IngestFileRef & { action: string; metadata?: Record<string, unknown> }): Promise<void> {
      await deps.audit.recordOnce({
        actorId: args.userId,
        action: args.action,
        targetType: 'file',
        targetId: args.fileId,
        requestId: args.requestId,
        ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
      });
    },
  };
}

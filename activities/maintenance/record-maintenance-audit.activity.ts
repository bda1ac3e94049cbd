import type { MaintenanceActivityDeps } from './maintenance-deps';

export type RecordMaintenanceAuditDeps = Pick<MaintenanceActivityDeps, 'audit'>;

export function createRecordMaintenanceAudit(deps: RecordMaintenanceAuditDeps) {
  return {
    /** The outcome of an operator's batch run, once per run (a retry or a replay does not add a second row). */
    async recordMaintenanceAudit(args: {
      action: string;
      targetType: string;
      targetId: string;
      requestedBy: string;
      metadata: Record<string, unknown>;
    }): Promise<void> {
      await deps.audit.recordOnce({
        actorId: null,
        action: args.action,
        targetType: args.targetType,
        targetId: args.targetId,
        metadata: { ...args.metadata, by: args.requestedBy },
      });
    },
  };
}

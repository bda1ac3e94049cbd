import type { MaintenanceActivityDeps } from './maintenance/maintenance-deps';
import { createPurging } from './maintenance/purging.activity';
import { createRecordMaintenanceAudit } from './maintenance/record-maintenance-audit.activity';
import { createReembedding } from './maintenance/reembedding.activity';
import { createReencrypting } from './maintenance/reencrypting.activity';

export type { MaintenanceActivityDeps } from './maintenance/maintenance-deps';

/**
 * The activities of the operator's batch workflows (`reembedFiles`, `purgeData`, `reencryptFiles`), served by the ingest worker beside
 * the ingest activities (re-embedding reuses `embedChunks`). Their names are part of recorded histories: never rename.
 */
export function createMaintenanceActivities(deps: MaintenanceActivityDeps) {
  return {
    ...createReembedding(deps),
    ...createPurging(deps),
    ...createReencrypting(deps),
    ...createRecordMaintenanceAudit(deps),
  };
}

export type MaintenanceActivities = ReturnType<typeof createMaintenanceActivities>;

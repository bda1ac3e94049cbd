import { Global, Module } from '@nestjs/common';
import { AuditWriter } from '#libs/audit/audit-writer';
import type { Database } from '#libs/db/database';
import { ApiMetrics } from '#libs/metrics/metrics';
import { DATABASE } from '../infra/di-symbols';

/** The audit log's one writer (libs/audit), for every module; every row it writes is counted in the metrics. */
@Global()
@Module({
  providers: [
    {
      provide: AuditWriter,
      inject: [DATABASE, ApiMetrics],
      useFactory: (db: Database, metrics: ApiMetrics) => new AuditWriter(db, (entry) => metrics.audited(entry)),
    },
  ],
  exports: [AuditWriter],
})
export class AuditModule {}

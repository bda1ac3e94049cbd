import { Global, Module } from '@nestjs/common';
import { AuditWriter } from '#libs/audit/audit-writer';
import type { Database } from '#libs/db/database';
import { DATABASE } from '../infra/di-symbols';

/** The audit log's one writer (libs/audit), for every module. */
@Global()
@Module({
  providers: [{ provide: AuditWriter, inject: [DATABASE], useFactory: (db: Database) => new AuditWriter(db) }],
  exports: [AuditWriter],
})
export class AuditModule {}

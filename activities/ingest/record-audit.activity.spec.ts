import { AuditWriter } from '#libs/audit/audit-writer';
import type { Repositories } from '#libs/db/database';
import { InMemoryAuditLogRepository } from '#libs/db/testing/in-memory-audit-log.repository';
import { createRecordAudit } from './record-audit.activity';
import { FILE } from './testing/ingest-activity-kit';

/** The real AuditWriter over an in-memory audit log. */
function setup() {
  const audit = new InMemoryAuditLogRepository();
  const repos = { audit } as unknown as Repositories;
  const writer = new AuditWriter({ audit: repos.audit, transaction: (work) => work(repos) });
  return { rows: audit.rows, ...createRecordAudit({ audit: writer }) };
}

describe('recordAudit', () => {
  it('writes one row for the file, by its owner, with the request id and metadata', async () => {
    const { rows, recordAudit } = setup();
    await recordAudit({ ...FILE, action: 'file.ingested', metadata: { chunks: 3 } });
    expect(rows).toEqual([
      {
        actorId: FILE.userId,
        action: 'file.ingested',
        targetType: 'file',
        targetId: FILE.fileId,
        requestId: 'r1',
        metadata: { chunks: 3 },
        ip: null,
        userAgent: null,
      },
    ]);
  });

  it('writes nothing more when the activity runs again (a retry, a replayed run)', async () => {
    const { rows, recordAudit } = setup();
    await recordAudit({ ...FILE, action: 'file.ingested', metadata: { chunks: 3 } });
    await recordAudit({ ...FILE, action: 'file.ingested', metadata: { chunks: 3 } });
    await recordAudit({ ...FILE, action: 'file.ingest_failed' });
    expect(rows.map((row) => [row.action, row.metadata])).toEqual([
      ['file.ingested', { chunks: 3 }],
      ['file.ingest_failed', null],
    ]);
  });
});

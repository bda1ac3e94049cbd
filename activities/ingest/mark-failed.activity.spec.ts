import { InMemoryFileRepository } from '#libs/db/testing/in-memory-file.repository';
import { createMarkFailed } from './mark-failed.activity';
import { FILE, silentLogger } from './testing/ingest-activity-kit';

describe('markFailed', () => {
  it('marks the file failed with the reason the user is shown, cut to fit its columns', async () => {
    const files = new InMemoryFileRepository();
    files.seed({ id: FILE.fileId, userId: FILE.userId, status: 'processing', stage: 'extract' });
    const { markFailed } = createMarkFailed({ db: { files }, logger: silentLogger });
    await markFailed({ ...FILE, code: 'corrupt', detail: 'x'.repeat(2000) });
    const row = files.rows.get(FILE.fileId);
    expect(row).toMatchObject({ status: 'failed', stage: null, errorCode: 'corrupt' });
    expect(row?.errorDetail).toHaveLength(1000);
  });
});

import { InMemoryFileRepository } from '../../test/fakes/in-memory-file.repository';
import { silentLogger } from '../../test/support/silent-logger';
import { createMarkFailed } from './mark-failed.activity';

const FILE = {
  fileId: '6f1c1f0e-7d7a-4c2b-9a55-0d4b3c2a1f00',
  userId: 'a3c5e7f9-1b2d-4e6f-8a0b-1c2d3e4f5a6b',
  requestId: 'r1',
};

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

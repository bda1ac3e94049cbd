import type { FileStatus } from '#libs/db/entities/file.entity';
import { InMemoryFileRepository } from '#libs/db/testing/in-memory-file.repository';
import { createMarkReady } from './mark-ready.activity';
import { FILE, silentLogger } from './testing/ingest-activity-kit';

const READY = { ...FILE, chunks: 7, embeddingModel: 'fake-embed' };

function setup(status?: FileStatus) {
  const files = new InMemoryFileRepository();
  if (status) files.seed({ id: FILE.fileId, userId: FILE.userId, status, progress: 90, stage: 'embed' });
  return { files, ...createMarkReady({ db: { files }, logger: silentLogger }) };
}

describe('markReady', () => {
  it('marks a processing file ready with its chunk count and embedding model', async () => {
    const { files, markReady } = setup('processing');
    await markReady(READY);
    expect(files.rows.get(FILE.fileId)).toMatchObject({
      status: 'ready',
      progress: 100,
      stage: null,
      chunkCount: 7,
      embeddingModel: 'fake-embed',
    });
  });

  it('is done when a retry finds the file already ready', async () => {
    const { files, markReady } = setup('processing');
    await markReady(READY);
    await expect(markReady(READY)).resolves.toBeUndefined();
    expect(files.rows.get(FILE.fileId)).toMatchObject({ status: 'ready', chunkCount: 7 });
  });

  it('fails for good as file_gone when the file was deleted meanwhile', async () => {
    const { files, markReady } = setup();
    await expect(markReady(READY)).rejects.toMatchObject({ type: 'file_gone', nonRetryable: true });
    expect(files.rows.size).toBe(0);
  });

  it('fails for good, leaving the row alone, when the file is neither processing nor ready', async () => {
    const { files, markReady } = setup('failed');
    await expect(markReady(READY)).rejects.toMatchObject({ type: 'file_not_processing', nonRetryable: true });
    expect(files.rows.get(FILE.fileId)).toMatchObject({ status: 'failed', chunkCount: 0 });
  });

  it("never marks another user's file", async () => {
    const { files, markReady } = setup('processing');
    const stranger = { ...READY, userId: '0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b' };
    await expect(markReady(stranger)).rejects.toMatchObject({ type: 'file_gone' });
    expect(files.rows.get(FILE.fileId)).toMatchObject({ status: 'processing' });
  });
});

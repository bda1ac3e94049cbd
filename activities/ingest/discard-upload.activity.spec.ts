import { objectKeyFor } from '#libs/storage/object-store';
import { InMemoryFileRepository } from '#libs/db/testing/in-memory-file.repository';
import { InMemoryObjectStore } from '#libs/storage/testing/in-memory-object-store';
import { createDiscardUpload } from './discard-upload.activity';
import { FILE, silentLogger } from './testing/ingest-activity-kit';

const KEY = objectKeyFor(FILE.userId, FILE.fileId);

function setup() {
  const files = new InMemoryFileRepository();
  const store = new InMemoryObjectStore();
  return { files, store, ...createDiscardUpload({ db: { files }, store, logger: silentLogger }) };
}

describe('discardUpload', () => {
  it('removes the row and the object an abandoned upload left', async () => {
    const { files, store, discardUpload } = setup();
    files.seed({ id: FILE.fileId, userId: FILE.userId, status: 'uploading', storageKey: KEY });
    store.objects.set(KEY, Buffer.from('half of the bytes'));
    await discardUpload(FILE);
    expect(files.rows.size).toBe(0);
    expect(store.objects.size).toBe(0);
  });

  it('removes an object stored before its row was written (the key derives from the ids)', async () => {
    const { files, store, discardUpload } = setup();
    store.objects.set(KEY, Buffer.from('bytes without a row'));
    await discardUpload(FILE);
    expect(store.objects.size).toBe(0);
    expect(files.rows.size).toBe(0);
  });

  it('is idempotent: a retry after everything is gone does nothing and succeeds', async () => {
    const { files, store, discardUpload } = setup();
    files.seed({ id: FILE.fileId, userId: FILE.userId, status: 'uploading', storageKey: KEY });
    store.objects.set(KEY, Buffer.from('bytes'));
    await discardUpload(FILE);
    await expect(discardUpload(FILE)).resolves.toBeUndefined();
    expect([files.rows.size, store.objects.size]).toEqual([0, 0]);
  });
});

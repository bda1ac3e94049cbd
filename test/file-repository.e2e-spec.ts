import { randomUUID } from 'node:crypto';
import { createScratchDatabase, insertUser, type ScratchDatabase } from '../bench/support/scratch-database';
import { FileRepository, type NewFile } from '#libs/db/repositories/file.repository';
import { objectKeyFor } from '#libs/storage/object-store';

/** FileRepository against real MariaDB: the queries the fakes in unit specs stand in for. */
describe('FileRepository (real MariaDB)', () => {
  let scratch: ScratchDatabase;
  let files: FileRepository;
  let ada: string;
  let bob: string;

  beforeAll(async () => {
    scratch = await createScratchDatabase('file_repository');
    files = new FileRepository(scratch.db.manager);
    ada = await insertUser(scratch.db, 'ada');
    bob = await insertUser(scratch.db, 'bob');
  });
  afterAll(async () => scratch?.drop());

  function newFile(userId: string, name = 'notes.txt'): NewFile {
    const id = randomUUID();
    return { id, userId, name, kind: 'txt', mimeType: 'text/plain', storageKey: objectKeyFor(userId, id) };
  }

  it('takes an upload from uploading to processing once, owner-scoped', async () => {
    const file = newFile(ada);
    await files.createUploading(file);
    expect(await files.findOwned(file.id, ada)).toMatchObject({ ...file, status: 'uploading', size: 0, sha256: null });
    expect(await files.findOwned(file.id, bob)).toBeNull();

    const stored = { size: 42, sha256: 'a'.repeat(64) };
    expect(await files.finishUpload(file.id, bob, stored)).toBe(false);
    expect(await files.finishUpload(file.id, ada, stored)).toBe(true);
    expect(await files.finishUpload(file.id, ada, stored)).toBe(false);
    expect(await files.findOwned(file.id, ada)).toMatchObject({
      status: 'processing',
      size: 42,
      sha256: stored.sha256,
    });
  });

  it('reports progress only while processing, then marks ready once; failure reasons are cut to fit', async () => {
    const file = newFile(ada);
    await files.createUploading(file);
    await files.reportProgress(file.id, ada, 'extract', 10);
    expect(await files.findOwned(file.id, ada)).toMatchObject({ progress: 0, stage: null });
    await files.finishUpload(file.id, ada, { size: 1, sha256: 'b'.repeat(64) });
    await files.reportProgress(file.id, ada, 'embed', 142.6);
    expect(await files.findOwned(file.id, ada)).toMatchObject({ progress: 100, stage: 'embed' });

    expect(await files.markReady(file.id, bob, { chunks: 3, embeddingModel: null })).toBe(false);
    expect(await files.markReady(file.id, ada, { chunks: 3, embeddingModel: 'm' })).toBe(true);
    expect(await files.markReady(file.id, ada, { chunks: 3, embeddingModel: 'm' })).toBe(false);
    expect(await files.findOwned(file.id, ada)).toMatchObject({
      status: 'ready',
      progress: 100,
      stage: null,
      chunkCount: 3,
      embeddingModel: 'm',
    });

    await files.markFailed(file.id, ada, { code: 'x'.repeat(80), detail: 'y'.repeat(1500) });
    const failed = await files.findOwned(file.id, ada);
    expect([failed?.status, failed?.errorCode?.length, failed?.errorDetail?.length]).toEqual(['failed', 64, 1000]);
  });

  it('lists newest first with a keyset cursor (ties broken by id), counts owned and ready files', async () => {
    const user = await insertUser(scratch.db, 'lister');
    const made = [newFile(user, 'a.txt'), newFile(user, 'b.txt'), newFile(user, 'c.txt')];
    for (const file of made) await files.createUploading(file);
    // Two files created in the same millisecond: the id decides.
    await scratch.db.query(
      "UPDATE files SET created_at = CASE WHEN name = 'a.txt' THEN '2030-01-01 00:00:00.000' ELSE '2030-01-01 00:00:01.000' END WHERE user_id = ?",
      [user],
    );
    const expected = [...made.slice(1).sort((x, y) => (x.id < y.id ? 1 : -1)), made[0]!].map((file) => file.id);
    const first = await files.listOwned(user, { limit: 2 });
    expect(first.map((file) => file.id)).toEqual(expected.slice(0, 2));
    const last = first.at(-1)!;
    const rest = await files.listOwned(user, { limit: 2, after: { createdAt: last.createdAt, id: last.id } });
    expect(rest.map((file) => file.id)).toEqual(expected.slice(2));
    expect(await files.listOwned(bob, { limit: 10 })).toEqual([]);

    const ids = made.map((file) => file.id);
    expect(await files.countOwned(user, [...ids, ids[0]!, randomUUID()])).toBe(3);
    expect(await files.countOwned(bob, ids)).toBe(0);
    expect(await files.countOwned(user, [])).toBe(0);
    expect(await files.hasReadyFiles(user)).toBe(false);
    expect(await files.readyIds(user)).toEqual([]);

    await scratch.db.query("UPDATE files SET status = 'ready' WHERE id = ?", [ids[1]]);
    expect(await files.hasReadyFiles(user)).toBe(true);
    expect(await files.hasReadyFiles(user, [ids[0]!, ids[2]!])).toBe(false);
    expect(await files.hasReadyFiles(user, [ids[1]!])).toBe(true);
    expect(await files.hasReadyFiles(user, [])).toBe(true); // no list: any of the user's files
    expect(await files.hasReadyFiles(bob, [ids[1]!])).toBe(false);
    expect(await files.readyIds(user)).toEqual([ids[1]]);

    expect(await files.remove(ids[0]!, bob)).toBe(false);
    expect(await files.remove(ids[0]!, user)).toBe(true);
    expect(await files.remove(ids[0]!, user)).toBe(false);
    expect(await files.countOwned(user, ids)).toBe(2);
  });
});

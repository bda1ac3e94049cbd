import { ingestWorkflowId } from '#libs/contracts/ingest-file.contract';
import { objectKeyFor } from '#libs/storage/object-store';
import { Harness, signUp, startHarness, TestUser, waitFor } from './support/harness';
import { startStreamingUpload } from './support/streaming-upload';
import { uniqueSuffix } from './support/test-env';

/*
 * A client that goes away in the middle of an upload (a crash, a lost network) is noticed at once: the row and whatever
 * reached the store go, and the file's ingest run ends `abandoned` — not after the run's 30-minute wait for the
 * upload. Several rounds in a row on each driver (UPLOAD_ABORT_ROUNDS; the issue asked for 20 without a failure, which
 * `UPLOAD_ABORT_ROUNDS=20 npx jest test/upload-abort.e2e-spec.ts` runs).
 */

const ROUNDS = Number(process.env.UPLOAD_ABORT_ROUNDS ?? 3);
/** "At once": well under the run's upload wait, with room for a loaded CI machine. */
const NOTICED_WITHIN_MS = 15_000;

describe.each([
  ['S3 (SeaweedFS)', true],
  ['the local directory', false],
] as const)('an upload the client cuts off (%s store)', (_label, s3) => {
  let h: Harness;
  let ada: TestUser;

  beforeAll(async () => {
    h = await startHarness(s3 ? 'upabort-s3' : 'upabort-local', { s3 });
    ada = await signUp(h, 'ada');
  });
  afterAll(async () => h?.close());

  it(`is noticed at once: row and object gone, the run ends abandoned (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const name = `cut-off-${round}-${uniqueSuffix()}.md`;
      const upload = startStreamingUpload(h.baseUrl, ada.auth, name, 'text/markdown');
      await upload.send(Buffer.from(`# Cut off\n\n${'Words that will never all arrive. '.repeat(4000)}`));
      // Once the API is storing it, the file is listed (as processing).
      const file = await waitFor(async () => {
        const list = await h.http.get('/api/v1/files?limit=100').set('Authorization', ada.auth);
        return (list.body.items as { id: string; name: string }[]).find((each) => each.name === name);
      }, 10_000);
      const key = objectKeyFor(ada.userId, file.id);
      upload.abort();
      const cutAt = Date.now();

      const run = h.temporal.workflow.getHandle(ingestWorkflowId(file.id));
      const outcome = await Promise.race([
        run.result() as Promise<{ status: string; error?: { code: string } }>,
        new Promise<never>((_resolve, reject) =>
          setTimeout(
            () => reject(new Error(`round ${round}: the run still waits after the client left`)),
            NOTICED_WITHIN_MS,
          ),
        ),
      ]);
      expect([round, outcome]).toEqual([round, expect.objectContaining({ status: 'abandoned' })]);
      expect(Date.now() - cutAt).toBeLessThan(NOTICED_WITHIN_MS);

      const api = await h.http.get(`/api/v1/files/${file.id}`).set('Authorization', ada.auth);
      expect([round, api.status]).toEqual([round, 404]);
      expect(await h.db.query('SELECT id FROM files WHERE id = ?', [file.id])).toEqual([]);
      expect(await h.store.stat(key)).toBeNull();
    }
    // The API is still well: a whole upload after all those cut-off ones goes through.
    const whole = startStreamingUpload(h.baseUrl, ada.auth, 'whole.md', 'text/markdown');
    await whole.send(Buffer.from('# Whole\n\nThis one arrives in full.\n'));
    expect((await whole.finish()).status).toBe(202);
  });
});

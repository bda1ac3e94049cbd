import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ingestWorkflowId } from '#libs/contracts/ingest-file.contract';
import {
  REENCRYPT_FILES_WORKFLOW,
  reencryptWorkflowId,
  type ReencryptProgress,
} from '#libs/contracts/reencrypt.contract';
import type { AppConfig } from '#libs/config/app-config';
import { createLogger } from '#libs/logging/logger';
import {
  ENCRYPTED_OBJECT_MAGIC,
  KEY_OBJECT_MAGIC,
  keyObjectKeyFor,
  ObjectDecryptionError,
} from '#libs/storage/encrypted-object-store';
import { startWorker } from '../apps/worker/src/worker';
import { createObjectStore } from '#libs/storage/create-object-store';
import { objectKeyFor } from '#libs/storage/object-store';
import { Harness, signUp, startHarness, TestUser, waitFor } from './support/harness';

const API = '/api/v1';

/** Uploads, waits for ingestion, and returns what the raw store (no keys) holds next to what the API serves back. */
async function roundTrip(h: Harness, who: TestUser, name: string, text: string) {
  const uploaded = await h.http
    .post(`${API}/files`)
    .set('Authorization', who.auth)
    .attach('file', Buffer.from(text), { filename: name, contentType: 'text/markdown' });
  expect(uploaded.status).toBe(202);
  const id = uploaded.body.id as string;
  const ready = await waitFor(async () => {
    const res = await h.http.get(`${API}/files/${id}`).set('Authorization', who.auth);
    return res.body.status === 'processing' ? undefined : res.body;
  }, 60_000);
  // The bytes exactly as the bucket (or directory) holds them: anyone with access to the store sees these.
  const raw = createObjectStore({ s3: h.config.files.s3, localDir: h.config.files.localDir });
  const stored = await buffer(await raw.get(objectKeyFor(who.userId, id)));
  const downloaded = await h.http
    .get(`${API}/files/${id}/content`)
    .set('Authorization', who.auth)
    .buffer(true)
    .parse((response, done) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => done(null, Buffer.concat(parts)));
    });
  return { id, ready, stored, downloaded };
}

describe.each([
  ['S3 (SeaweedFS)', true],
  ['the local directory', false],
])('files encrypted at rest in %s', (_driver, s3) => {
  let h: Harness;
  let ada: TestUser;

  beforeAll(async () => {
    h = await startHarness(s3 ? 'filecrypt-s3' : 'filecrypt-local', { s3 });
    ada = await signUp(h, 'ada');
  });
  afterAll(async () => h?.close());

  it('stores ciphertext, serves and extracts the plaintext, and keeps the file name out of Temporal', async () => {
    const secret = `Quarterly numbers ${Math.random().toString(36).slice(2)}`;
    const text = `# Board notes\n\n${secret}. ${'Revenue grew in every region. '.repeat(3000)}\n`;
    const name = `board-notes-${Math.random().toString(36).slice(2)}.md`;
    const { id, ready, stored, downloaded } = await roundTrip(h, ada, name, text);

    expect(stored.subarray(0, ENCRYPTED_OBJECT_MAGIC.length).equals(ENCRYPTED_OBJECT_MAGIC)).toBe(true);
    expect(stored.includes(secret)).toBe(false);
    expect(stored.includes('Revenue grew')).toBe(false);
    expect(stored.length).toBeGreaterThan(Buffer.byteLength(text));

    // The download decrypts as it streams; extraction read through the same path (the chunks hold the text).
    expect(downloaded.status).toBe(200);
    expect((downloaded.body as Buffer).toString()).toBe(text);
    expect(ready).toMatchObject({ status: 'ready', size: Buffer.byteLength(text) });
    const chunks: { content: string }[] = await h.db.query('SELECT content FROM file_chunks WHERE file_id = ?', [id]);
    expect(chunks.some((chunk) => chunk.content.includes(secret))).toBe(true);
    expect(await h.store.stat(objectKeyFor(ada.userId, id))).toEqual({ size: Buffer.byteLength(text) });

    // The ingest run's memo names the file: sealed by the payload codec like everything else in its history.
    const connection = await Connection.connect({ address: h.config.temporal.address });
    try {
      const raw = new Client({ connection, namespace: h.config.temporal.namespace });
      const history = await raw.workflow.getHandle(ingestWorkflowId(id)).fetchHistory();
      expect(
        JSON.stringify(history, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString() : v)),
      ).not.toContain(name);
    } finally {
      await connection.close();
    }
  });

  it('reencryptFiles brings clear objects (from before encryption) and older keys to the current key', async () => {
    const text = `# Old upload\n\nStored before encryption was on. ${'Plain words. '.repeat(8000)}\n`;
    const { id } = await roundTrip(h, ada, 'old.md', text);
    const at = objectKeyFor(ada.userId, id);
    // As if stored before encryption: the same bytes, clear, straight into the bucket or directory.
    const raw = createObjectStore({ s3: h.config.files.s3, localDir: h.config.files.localDir });
    await raw.put(at, Readable.from([Buffer.from(text)]), { maxBytes: Buffer.byteLength(text) });
    expect((await buffer(await h.store.get(at))).toString()).toBe(text); // clear objects still read

    const handle = await h.temporal.workflow.start(REENCRYPT_FILES_WORKFLOW, {
      workflowId: `${reencryptWorkflowId(h.config.temporal.ingestTaskQueue)}:${id}`,
      taskQueue: h.config.temporal.ingestTaskQueue,
      args: [{ requestedBy: 'test' }],
    });
    const progress = (await handle.result()) as ReencryptProgress;
    expect(progress).toMatchObject({ status: 'completed', rewritten: 1, failed: 0 });
    const stored = await buffer(await raw.get(at));
    expect(stored.subarray(0, ENCRYPTED_OBJECT_MAGIC.length).equals(ENCRYPTED_OBJECT_MAGIC)).toBe(true);
    expect(stored.includes('Plain words')).toBe(false);
    expect((await buffer(await h.store.get(at))).toString()).toBe(text);
    // A second run has nothing left to do.
    const again = await h.temporal.workflow.execute(REENCRYPT_FILES_WORKFLOW, {
      workflowId: `${reencryptWorkflowId(h.config.temporal.ingestTaskQueue)}:${id}:again`,
      taskQueue: h.config.temporal.ingestTaskQueue,
      args: [{ requestedBy: 'test' }],
    });
    expect(again).toMatchObject({ status: 'completed', rewritten: 0, failed: 0 });
    expect((again as ReencryptProgress).current).toBeGreaterThanOrEqual(1);
  });

  it('rotation re-wraps data keys without rewriting objects, after which the old key can go', async () => {
    const text = `# Rotated\n\n${'Sealed under the first key. '.repeat(6000)}\n`;
    const { id } = await roundTrip(h, ada, 'rotated.md', text);
    const at = objectKeyFor(ada.userId, id);
    const raw = createObjectStore({ s3: h.config.files.s3, localDir: h.config.files.localDir });
    const before = await buffer(await raw.get(at));
    const fresh = { id: `r${randomBytes(3).toString('hex')}`, key: randomBytes(32) };

    // The operator puts a new key first and restarts the workers: one on queues of its own stands for them here.
    const queue = (name: string) => `${name}-rotated`;
    const rotated: AppConfig = {
      ...h.config,
      files: { ...h.config.files, encryptionKeys: [fresh, ...h.config.files.encryptionKeys] },
      temporal: {
        ...h.config.temporal,
        chatTaskQueue: queue(h.config.temporal.chatTaskQueue),
        ingestTaskQueue: queue(h.config.temporal.ingestTaskQueue),
        replayTaskQueue: queue(h.config.temporal.replayTaskQueue),
      },
      metrics: { ...h.config.metrics, workerPort: -1 },
    };
    const worker = await startWorker(rotated, createLogger({ level: 'warn', name: 'rotated-worker' }));
    let progress: ReencryptProgress;
    try {
      progress = await h.temporal.workflow.execute(REENCRYPT_FILES_WORKFLOW, {
        workflowId: `${reencryptWorkflowId(rotated.temporal.ingestTaskQueue)}:${id}`,
        taskQueue: rotated.temporal.ingestTaskQueue,
        args: [{ requestedBy: 'test' }],
      });
    } finally {
      await worker.shutdown();
    }
    expect(progress).toMatchObject({ status: 'completed', rewritten: 0, failed: 0 });
    expect(progress.rewrapped).toBeGreaterThanOrEqual(1);

    // The object's bytes are exactly as they were; beside it, its data key wrapped under the new key.
    expect((await buffer(await raw.get(at))).equals(before)).toBe(true);
    const keyObject = await buffer(await raw.get(keyObjectKeyFor(at)));
    expect(keyObject.subarray(0, KEY_OBJECT_MAGIC.length).equals(KEY_OBJECT_MAGIC)).toBe(true);
    expect(keyObject.includes(Buffer.from(fresh.id))).toBe(true);

    // The old key retired: the new one alone opens the file; a store with neither cannot.
    const retired = createObjectStore({ ...h.config.files, encryptionKeys: [fresh] });
    expect((await buffer(await retired.get(at))).toString()).toBe(text);
    const stranger = createObjectStore({ ...h.config.files, encryptionKeys: [{ id: 'x1', key: randomBytes(32) }] });
    await expect(buffer(await stranger.get(at))).rejects.toBeInstanceOf(ObjectDecryptionError);

    // Deleting the file takes its key object with it.
    const deleted = await h.http.delete(`${API}/files/${id}`).set('Authorization', ada.auth);
    expect(deleted.status).toBe(204);
    await waitFor(async () => ((await raw.stat(at)) === null ? true : undefined), 30_000);
    expect(await raw.stat(keyObjectKeyFor(at))).toBeNull();
  });
});

import { ApplicationFailure } from '@temporalio/activity';
import { Readable } from 'node:stream';
import type { FileKind } from '#libs/db/entities/file.entity';
import type { PreparedDocument } from '#libs/documents/prepare-document';
import { objectKeyFor } from '#libs/storage/object-store';
import { InMemoryChunkStore } from '#libs/retrieval/testing/in-memory-chunk-store';
import { InMemoryFileRepository } from '#libs/db/testing/in-memory-file.repository';
import { InMemoryObjectStore } from '#libs/storage/testing/in-memory-object-store';
import { createExtractAndChunk, readAll, type ExtractAndChunkDeps } from './extract-and-chunk.activity';
import { FILE, FakeActivityContext, silentLogger } from './testing/ingest-activity-kit';

const KEY = objectKeyFor(FILE.userId, FILE.fileId);
const MAX_BYTES = 1024;

/** A processing file of `kind` whose stored bytes are `bytes` (no object when undefined). */
function setup(kind: FileKind, bytes: Buffer | undefined, documents?: ExtractAndChunkDeps['documents']) {
  const files = new InMemoryFileRepository();
  files.seed({ id: FILE.fileId, userId: FILE.userId, kind, status: 'processing', storageKey: KEY });
  const store = new InMemoryObjectStore();
  if (bytes) store.objects.set(KEY, bytes);
  const chunks = new InMemoryChunkStore();
  const { extractAndChunk } = createExtractAndChunk({
    db: { files },
    store,
    chunks,
    logger: silentLogger,
    maxBytes: MAX_BYTES,
    chunkTokens: 100,
    chunkOverlapTokens: 10,
    ...(documents ? { documents } : {}),
  });
  const run = () => new FakeActivityContext().run(() => extractAndChunk(FILE));
  return { files, store, chunks, run };
}

describe('extractAndChunk', () => {
  it("writes the document's chunks and returns only counts, reporting progress as it goes", async () => {
    const text = '# Travel\n\nBook trains, not planes.\n\n# Expenses\n\nKeep every receipt.\n';
    const { files, chunks, run } = setup('md', Buffer.from(text));
    const result = await run();

    expect(result).toEqual({ chunks: chunks.chunks.length, characters: expect.any(Number) });
    expect(result.chunks).toBeGreaterThan(0);
    expect(chunks.chunks.every((chunk) => chunk.fileId === FILE.fileId && chunk.userId === FILE.userId)).toBe(true);
    expect(chunks.chunks.map((chunk) => chunk.content).join('\n')).toMatch(/trains[\s\S]*receipt/);
    expect(chunks.chunks.map((chunk) => chunk.seq)).toEqual(chunks.chunks.map((_, index) => index));
    expect(files.progress).toEqual([
      { stage: 'extract', progress: 10 },
      { stage: 'chunk', progress: 30 },
      { stage: 'chunk', progress: 50 },
    ]);
  });

  it('prepares the document on the thread pool when there is one, handing it the cancellation signal', async () => {
    const prepared: PreparedDocument = {
      chunks: [{ seq: 0, content: 'page one', tokens: 2 }],
      characters: 8,
      pages: 1,
    };
    const prepare = jest.fn((..._args: unknown[]) => Promise.resolve(prepared));
    const { chunks, run } = setup('pdf', Buffer.from('%PDF-1.7 whatever'), { prepare });
    expect(await run()).toEqual({ chunks: 1, characters: 8, pages: 1 });
    expect(prepare).toHaveBeenCalledWith(
      'pdf',
      new Uint8Array(Buffer.from('%PDF-1.7 whatever')),
      { chunkTokens: 100, overlapTokens: 10 },
      expect.any(AbortSignal),
    );
    expect(chunks.chunks.map((chunk) => chunk.content)).toEqual(['page one']);
  });

  it.each([
    ['a corrupt DOCX', 'docx', Buffer.from('PK\u0003\u0004 not a zip at all'), 'corrupt'],
    ['a text file of whitespace only', 'txt', Buffer.from('  \n\n\t '), 'empty'],
    ['a stored object over the size limit', 'txt', Buffer.alloc(MAX_BYTES + 1, 'a'), 'too_large'],
  ] as const)('fails for good on %s (%s), writing no chunks', async (_name, kind, bytes, type) => {
    const { chunks, run } = setup(kind, bytes);
    const failure = await run().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type, nonRetryable: true });
    expect(chunks.chunks).toEqual([]);
  });

  it('fails for good as empty when extraction yields no chunks at all', async () => {
    const prepare = () => Promise.resolve({ chunks: [], characters: 0 });
    const { chunks, run } = setup('txt', Buffer.from('x'), { prepare });
    expect(await run().catch((error: unknown) => error)).toMatchObject({ type: 'empty', nonRetryable: true });
    expect(chunks.chunks).toEqual([]);
  });

  it('reports a file whose row is gone as file_gone, never retried, without reading the store', async () => {
    const { files, store, run } = setup('txt', Buffer.from('text'));
    files.rows.clear();
    const get = jest.spyOn(store, 'get');
    expect(await run().catch((error: unknown) => error)).toMatchObject({ type: 'file_gone', nonRetryable: true });
    expect(get).not.toHaveBeenCalled();
  });

  it('reports a file whose object is gone as file_gone', async () => {
    const { chunks, run } = setup('txt', undefined);
    expect(await run().catch((error: unknown) => error)).toMatchObject({ type: 'file_gone', nonRetryable: true });
    expect(chunks.chunks).toEqual([]);
  });

  it('lets a store failure through as a plain error, so the retry policy retries it', async () => {
    const { store, run } = setup('txt', Buffer.from('text'));
    jest.spyOn(store, 'get').mockRejectedValue(new Error('connect ECONNREFUSED'));
    const failure = await run().catch((error: unknown) => error);
    expect(failure).not.toBeInstanceOf(ApplicationFailure);
    expect((failure as Error).message).toBe('connect ECONNREFUSED');
  });
});

describe('readAll', () => {
  it('reads a stream within the limit whole', async () => {
    const data = await readAll(Readable.from([Buffer.from('abc'), Buffer.from('def')]), 6);
    expect(data.toString()).toBe('abcdef');
  });

  it('refuses a stream over the limit as too_large', async () => {
    await expect(readAll(Readable.from([Buffer.from('abcd'), Buffer.from('efg')]), 6)).rejects.toMatchObject({
      type: 'too_large',
      nonRetryable: true,
    });
  });
});

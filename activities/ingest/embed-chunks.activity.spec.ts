import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { EmbeddingError } from '#libs/retrieval/embedding-client';
import { InMemoryChunkStore } from '#libs/retrieval/testing/in-memory-chunk-store';
import { InMemoryFileRepository } from '#libs/db/testing/in-memory-file.repository';
import { createEmbedChunks } from './embed-chunks.activity';
import type { Embedder } from './ingest-deps';
import { FILE, FakeActivityContext, silentLogger } from './testing/ingest-activity-kit';

/** An embedder whose vector for a text is [its length, its position in the call]; it records every call. */
function recordingEmbedder(failOnCall?: { call: number; error: Error }): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    embed: (texts: string[]) => {
      calls.push(texts);
      if (failOnCall && calls.length === failOnCall.call) return Promise.reject(failOnCall.error);
      return Promise.resolve(texts.map((text, index) => new Float32Array([text.length, index])));
    },
  };
}

function setup(chunkCount: number, embedder?: Embedder) {
  const files = new InMemoryFileRepository();
  files.seed({ id: FILE.fileId, userId: FILE.userId, status: 'processing' });
  const chunks = new InMemoryChunkStore();
  chunks.seed(FILE.fileId, FILE.userId, chunkCount);
  const versions = { bump: jest.fn((_userId: string) => Promise.resolve(1)) };
  const { embedChunks } = createEmbedChunks({
    db: { files },
    chunks,
    logger: silentLogger,
    versions,
    ...(embedder ? { embeddings: { client: embedder, model: 'fake-embed', batchSize: 2 } } : {}),
  });
  return { files, chunks, versions, embedChunks };
}

describe('embedChunks', () => {
  it('is skipped, and says so, without an embedding provider', async () => {
    const { chunks, versions, embedChunks } = setup(3);
    const result = await new FakeActivityContext().run(() => embedChunks(FILE));
    expect(result).toEqual({ skipped: true, embedded: 0 });
    expect(chunks.vectorWrites).toEqual([]);
    expect(versions.bump).not.toHaveBeenCalled();
  });

  it('embeds in batches in seq order, stores each batch, heartbeats its last seq and reports progress', async () => {
    const embedder = recordingEmbedder();
    const { files, chunks, versions, embedChunks } = setup(5, embedder);
    const context = new FakeActivityContext();
    const result = await context.run(() => embedChunks(FILE));

    expect(result).toEqual({ skipped: false, embedded: 5, model: 'fake-embed' });
    expect(embedder.calls).toEqual([['text 0', 'text 1'], ['text 2', 'text 3'], ['text 4']]);
    expect(chunks.vectorWrites).toEqual([[0, 1], [2, 3], [4]]);
    expect(chunks.chunks.map((chunk) => Array.from(chunk.embedding ?? []))).toEqual([
      [6, 0],
      [6, 1],
      [6, 0],
      [6, 1],
      [6, 0],
    ]);
    expect(context.beats).toEqual([{ lastSeq: 1 }, { lastSeq: 3 }, { lastSeq: 4 }]);
    // Progress climbs from 50 towards 90 as batches land.
    expect(files.progress).toEqual([
      { stage: 'embed', progress: 50 },
      { stage: 'embed', progress: 66 },
      { stage: 'embed', progress: 82 },
      { stage: 'embed', progress: 90 },
    ]);
    // In-process vector caches of the user reload.
    expect(versions.bump).toHaveBeenCalledWith(FILE.userId);
  });

  it('resumes after the checkpoint of a previous attempt, counting what it stored as done', async () => {
    const embedder = recordingEmbedder();
    const { files, embedChunks } = setup(5, embedder);
    const context = new FakeActivityContext({ heartbeatDetails: { lastSeq: 1 } });
    const result = await context.run(() => embedChunks(FILE));

    expect(embedder.calls).toEqual([['text 2', 'text 3'], ['text 4']]);
    expect(context.beats).toEqual([{ lastSeq: 3 }, { lastSeq: 4 }]);
    expect(result).toEqual({ skipped: false, embedded: 5, model: 'fake-embed' });
    expect(files.progress[0]).toEqual({ stage: 'embed', progress: 66 });
  });

  it('resumes after the checkpoint in the file row when the last heartbeats never reached Temporal (a killed worker)', async () => {
    const embedder = recordingEmbedder();
    const { files, chunks, embedChunks } = setup(7, embedder);
    await new FakeActivityContext().run(() => embedChunks(FILE));
    expect(files.rows.get(FILE.fileId)?.embeddedSeq).toBe(6);
    files.rows.get(FILE.fileId)!.embeddedSeq = 3; // the worker died after storing 0–3
    embedder.calls.length = 0;
    chunks.vectorWrites.length = 0;

    // Temporal only had the first batch's heartbeat (throttled); the row knows better.
    const retry = new FakeActivityContext({ heartbeatDetails: { lastSeq: 1 }, attempt: 2 });
    const result = await retry.run(() => embedChunks(FILE));
    expect(embedder.calls).toEqual([['text 4', 'text 5'], ['text 6']]);
    expect(chunks.vectorWrites).toEqual([[4, 5], [6]]);
    expect(result).toEqual({ skipped: false, embedded: 7, model: 'fake-embed' });
  });

  it('never re-embeds a batch it stored: a failed attempt is retried from its last heartbeat', async () => {
    const transient = new EmbeddingError('embedding_rate_limited', 'slow down', true, 429);
    const embedder = recordingEmbedder({ call: 3, error: transient });
    const { chunks, embedChunks } = setup(7, embedder);

    const first = new FakeActivityContext();
    const failure = await first.run(() => embedChunks(FILE)).catch((error: unknown) => error);
    expect(failure).toMatchObject({ type: 'embedding_failed', nonRetryable: false });
    expect(first.lastBeat).toEqual({ lastSeq: 3 });

    // Temporal hands the next attempt the last heartbeat's details.
    const second = new FakeActivityContext({ heartbeatDetails: first.lastBeat, attempt: 2 });
    const result = await second.run(() => embedChunks(FILE));

    expect(result).toEqual({ skipped: false, embedded: 7, model: 'fake-embed' });
    expect(chunks.vectorWrites).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    const embeddedTexts = embedder.calls.flat();
    // Only the batch that failed went to the provider twice; nothing stored was sent again.
    expect(embeddedTexts).toEqual([
      'text 0',
      'text 1',
      'text 2',
      'text 3',
      'text 4',
      'text 5',
      'text 4',
      'text 5',
      'text 6',
    ]);
    expect(chunks.chunks.every((chunk) => chunk.embedding !== undefined)).toBe(true);
  });

  it.each([
    ['embedding_auth', new EmbeddingError('embedding_auth', 'bad key', false, 401), true],
    ['embedding_rate_limited', new EmbeddingError('embedding_rate_limited', 'slow down', true, 429), false],
  ] as const)(
    'turns %s into an embedding_failed failure, retried only when the provider says so',
    async (_code, error, nonRetryable) => {
      const { chunks, embedChunks } = setup(2, { embed: () => Promise.reject(error) });
      const failure = await new FakeActivityContext().run(() => embedChunks(FILE)).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'embedding_failed', nonRetryable, message: error.message });
      expect(chunks.vectorWrites).toEqual([]);
    },
  );

  it('refuses an answer with the wrong number of vectors (a plain, retryable error), storing nothing', async () => {
    const { chunks, embedChunks } = setup(2, { embed: () => Promise.resolve([new Float32Array([1])]) });
    const failure = await new FakeActivityContext().run(() => embedChunks(FILE)).catch((e: unknown) => e);
    expect(failure).not.toBeInstanceOf(ApplicationFailure);
    expect((failure as Error).message).toMatch(/1 vectors for 2 texts/);
    expect(chunks.vectorWrites).toEqual([]);
  });

  it('stops before calling the provider once the activity is cancelled', async () => {
    const embedder = recordingEmbedder();
    const { embedChunks } = setup(4, embedder);
    const context = new FakeActivityContext();
    context.cancel();
    const failure = await context.run(() => embedChunks(FILE)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CancelledFailure);
    expect(embedder.calls).toEqual([]);
  });
});

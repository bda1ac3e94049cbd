import type { ChunkStore, NewChunk, ReplaceFileChunksInput } from '#libs/retrieval/chunk-store';

export interface StoredChunk extends NewChunk {
  fileId: string;
  userId: string;
}

/** The write side of ChunkStore in memory (what ingestion uses), for unit specs. */
export class InMemoryChunkStore implements Pick<
  ChunkStore,
  'replaceFileChunks' | 'countFileChunks' | 'chunksAfter' | 'storeVectors' | 'deleteFileChunks' | 'fileRemoved'
> {
  readonly chunks: StoredChunk[] = [];
  /** Every storeVectors call's seqs, in order: a seq that appears twice was embedded twice. */
  readonly vectorWrites: number[][] = [];

  private of(fileId: string, userId: string): StoredChunk[] {
    return this.chunks
      .filter((chunk) => chunk.fileId === fileId && chunk.userId === userId)
      .sort((a, b) => a.seq - b.seq);
  }

  /** Chunks as extraction would have written them: `count` of them, `text <seq>` each. */
  seed(fileId: string, userId: string, count: number): void {
    for (let seq = 0; seq < count; seq++) this.chunks.push({ fileId, userId, seq, content: `text ${seq}`, tokens: 2 });
  }

  replaceFileChunks(input: ReplaceFileChunksInput): Promise<number> {
    this.remove(input.fileId, input.userId);
    this.chunks.push(...input.chunks.map((chunk) => ({ ...chunk, fileId: input.fileId, userId: input.userId })));
    return Promise.resolve(input.chunks.length);
  }

  countFileChunks(fileId: string, userId: string, afterSeq = -1): Promise<number> {
    return Promise.resolve(this.of(fileId, userId).filter((chunk) => chunk.seq > afterSeq).length);
  }

  chunksAfter(fileId: string, userId: string, afterSeq: number, limit: number) {
    return Promise.resolve(
      this.of(fileId, userId)
        .filter((chunk) => chunk.seq > afterSeq)
        .slice(0, limit)
        .map((chunk) => ({ seq: chunk.seq, content: chunk.content })),
    );
  }

  storeVectors(fileId: string, userId: string, vectors: { seq: number; embedding: Float32Array }[]): Promise<void> {
    this.vectorWrites.push(vectors.map((vector) => vector.seq));
    for (const vector of vectors) {
      const chunk = this.of(fileId, userId).find((candidate) => candidate.seq === vector.seq);
      if (chunk) chunk.embedding = vector.embedding;
    }
    return Promise.resolve();
  }

  deleteFileChunks(fileId: string, userId: string): Promise<number> {
    return Promise.resolve(this.remove(fileId, userId));
  }

  /** The file's row went (ON DELETE CASCADE in MySQL): so do its chunks here. */
  fileRemoved(fileId: string, userId: string): Promise<void> {
    this.remove(fileId, userId);
    return Promise.resolve();
  }

  private remove(fileId: string, userId: string): number {
    const before = this.chunks.length;
    const kept = this.chunks.filter((chunk) => chunk.fileId !== fileId || chunk.userId !== userId);
    this.chunks.splice(0, this.chunks.length, ...kept);
    return before - kept.length;
  }
}

import type { FileEntity } from '#libs/db/entities/file.entity';
import type { FilePageCursor, FileRepository, NewFile } from '#libs/db/repositories/file.repository';
import { objectKeyFor } from '#libs/storage/object-store';

/** The public face of FileRepository: what a fake must offer. */
export type FileRepositoryPort = { [K in keyof FileRepository]: FileRepository[K] };

/**
 * For unit specs: FileRepository in memory of the services and activities over it: the same owner scoping and
 * status transitions, rows a spec can read back. `progress` records every progress report, in order.
 */
export class InMemoryFileRepository implements FileRepositoryPort {
  readonly rows = new Map<string, FileEntity>();
  readonly progress: { stage: string; progress: number }[] = [];
  private clock = Date.parse('2030-01-01T00:00:00.000Z');

  /** Puts a row in place as if earlier steps had written it. */
  seed(row: Partial<FileEntity> & Pick<FileEntity, 'id' | 'userId'>): FileEntity {
    const at = new Date((this.clock += 1000));
    const file: FileEntity = {
      name: 'notes.txt',
      kind: 'txt',
      mimeType: 'text/plain',
      size: 0,
      sha256: null,
      storageKey: objectKeyFor(row.userId, row.id),
      status: 'processing',
      progress: 0,
      stage: null,
      chunkCount: 0,
      embeddedSeq: null,
      embeddingModel: null,
      errorCode: null,
      errorDetail: null,
      createdAt: at,
      updatedAt: at,
      ...row,
    };
    this.rows.set(file.id, file);
    return file;
  }

  private owned(id: string, userId: string): FileEntity | undefined {
    const row = this.rows.get(id);
    return row?.userId === userId ? row : undefined;
  }

  createUploading(file: NewFile): Promise<void> {
    if (this.rows.has(file.id)) return Promise.reject(new Error(`Duplicate entry '${file.id}'`));
    this.seed({ ...file, size: 0, sha256: null, status: 'uploading' });
    return Promise.resolve();
  }

  finishUpload(id: string, userId: string, stored: { size: number; sha256: string }): Promise<boolean> {
    const row = this.owned(id, userId);
    if (row?.status !== 'uploading') return Promise.resolve(false);
    Object.assign(row, { status: 'processing', size: stored.size, sha256: stored.sha256 });
    return Promise.resolve(true);
  }

  findOwned(id: string, userId: string): Promise<FileEntity | null> {
    const row = this.owned(id, userId);
    return Promise.resolve(row ? { ...row } : null);
  }

  listOwned(userId: string, page: { limit: number; after?: FilePageCursor }): Promise<FileEntity[]> {
    const after = page.after;
    const newestFirst = [...this.rows.values()]
      .filter((row) => row.userId === userId)
      .filter(
        (row) =>
          !after ||
          row.createdAt < after.createdAt ||
          (row.createdAt.getTime() === after.createdAt.getTime() && row.id < after.id),
      )
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
    return Promise.resolve(newestFirst.slice(0, page.limit).map((row) => ({ ...row })));
  }

  countOwned(userId: string, fileIds: readonly string[]): Promise<number> {
    return Promise.resolve([...new Set(fileIds)].filter((id) => this.owned(id, userId)).length);
  }

  hasReadyFiles(userId: string, fileIds: readonly string[] = []): Promise<boolean> {
    return this.readyIds(userId).then((ready) => ready.some((id) => fileIds.length === 0 || fileIds.includes(id)));
  }

  readyIds(userId: string): Promise<string[]> {
    return Promise.resolve(
      [...this.rows.values()].filter((row) => row.userId === userId && row.status === 'ready').map((row) => row.id),
    );
  }

  remove(id: string, userId: string): Promise<boolean> {
    return Promise.resolve(this.owned(id, userId) !== undefined && this.rows.delete(id));
  }

  embeddedThrough(id: string, userId: string): Promise<number | undefined> {
    const row = this.owned(id, userId);
    return Promise.resolve(row?.status === 'processing' ? (row.embeddedSeq ?? undefined) : undefined);
  }

  reportProgress(id: string, userId: string, stage: string, progress: number, embeddedSeq?: number): Promise<void> {
    const row = this.owned(id, userId);
    const clamped = Math.max(0, Math.min(100, Math.round(progress)));
    if (row?.status === 'processing') {
      Object.assign(row, { stage, progress: clamped, ...(embeddedSeq !== undefined ? { embeddedSeq } : {}) });
      this.progress.push({ stage, progress: clamped });
    }
    return Promise.resolve();
  }

  markReady(id: string, userId: string, result: { chunks: number; embeddingModel: string | null }): Promise<boolean> {
    const row = this.owned(id, userId);
    if (row?.status !== 'processing') return Promise.resolve(false);
    Object.assign(row, {
      status: 'ready',
      progress: 100,
      stage: null,
      chunkCount: result.chunks,
      embeddingModel: result.embeddingModel,
      errorCode: null,
      errorDetail: null,
    });
    return Promise.resolve(true);
  }

  markFailed(id: string, userId: string, reason: { code: string; detail: string }): Promise<void> {
    const row = this.owned(id, userId);
    if (row) {
      Object.assign(row, {
        status: 'failed',
        stage: null,
        errorCode: reason.code.slice(0, 64),
        errorDetail: reason.detail.slice(0, 1000),
      });
    }
    return Promise.resolve();
  }

  readyForReembedding(
    options: { model: string; all: boolean; afterId?: string },
    limit: number,
  ): Promise<{ id: string; userId: string }[]> {
    const after = options.afterId;
    return Promise.resolve(
      this.toReembed(options)
        .filter((row) => after === undefined || row.id > after)
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .slice(0, limit)
        .map((row) => ({ id: row.id, userId: row.userId })),
    );
  }

  countReadyForReembedding(options: { model: string; all: boolean }): Promise<number> {
    return Promise.resolve(this.toReembed(options).length);
  }

  recordEmbeddingModel(id: string, userId: string, model: string): Promise<boolean> {
    const row = this.owned(id, userId);
    if (row?.status !== 'ready') return Promise.resolve(false);
    row.embeddingModel = model;
    return Promise.resolve(true);
  }

  uploadedBefore(cutoff: Date, limit: number): Promise<{ id: string; userId: string }[]> {
    return Promise.resolve(
      [...this.rows.values()]
        .filter((row) => row.createdAt < cutoff)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1))
        .slice(0, limit)
        .map((row) => ({ id: row.id, userId: row.userId })),
    );
  }

  ownedBy(userId: string, limit: number): Promise<{ id: string; userId: string }[]> {
    return Promise.resolve(
      [...this.rows.values()]
        .filter((row) => row.userId === userId)
        .slice(0, limit)
        .map((row) => ({ id: row.id, userId: row.userId })),
    );
  }

  private toReembed(options: { model: string; all: boolean }): FileEntity[] {
    return [...this.rows.values()].filter(
      (row) => row.status === 'ready' && (options.all || row.embeddingModel !== options.model),
    );
  }
}

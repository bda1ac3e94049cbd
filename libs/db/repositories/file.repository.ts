import { In, LessThan, type EntityManager } from 'typeorm';
import { FileEntity } from '../entities/file.entity';

/** What an upload knows of its file before the bytes arrive. */
export type NewFile = Pick<FileEntity, 'id' | 'userId' | 'name' | 'kind' | 'mimeType' | 'storageKey'>;

/** Where a page of a user's files starts: after the file with this creation time and id (newest first). */
export interface FilePageCursor {
  createdAt: Date;
  id: string;
}

/** Column widths the failure reason is cut to. */
const ERROR_CODE_MAX = 64;
const ERROR_DETAIL_MAX = 1000;

/**
 * The uploaded files' rows (the bytes live in the object store, the chunks in ChunkStore). Owner-only: every method
 * takes the owner's id, so a query can never reach another user's file.
 */
export class FileRepository {
  constructor(private readonly manager: EntityManager) {}

  private get files() {
    return this.manager.getRepository(FileEntity);
  }

  /** Writes the row of an upload whose bytes are on their way: status `uploading`, size 0. */
  async createUploading(file: NewFile): Promise<void> {
    await this.files.insert({ ...file, size: 0, sha256: null, status: 'uploading' });
  }

  /**
   * `uploading` → `processing`, with what the store measured. False when the row no longer says `uploading` (the file
   * was deleted while its bytes were arriving).
   */
  async finishUpload(id: string, userId: string, stored: { size: number; sha256: string }): Promise<boolean> {
    const updated = await this.files.update(
      { id, userId, status: 'uploading' },
      { status: 'processing', size: stored.size, sha256: stored.sha256 },
    );
    return updated.affected === 1;
  }

  findOwned(id: string, userId: string): Promise<FileEntity | null> {
    return this.files.findOneBy({ id, userId });
  }

  /** The user's files, newest first (ties by id), at most `limit`, after `after` when given. */
  listOwned(userId: string, page: { limit: number; after?: FilePageCursor }): Promise<FileEntity[]> {
    const qb = this.files
      .createQueryBuilder('f')
      .where('f.user_id = :me', { me: userId })
      .orderBy('f.created_at', 'DESC')
      .addOrderBy('f.id', 'DESC')
      .limit(page.limit);
    if (page.after) {
      qb.andWhere('(f.created_at < :at OR (f.created_at = :at AND f.id < :id))', {
        at: page.after.createdAt,
        id: page.after.id,
      });
    }
    return qb.getMany();
  }

  /** Whether the user has a ready file (among `fileIds`, when given): retrieval has something to search. */
  async hasReadyFiles(userId: string, fileIds: readonly string[] = []): Promise<boolean> {
    return this.files.exists({
      where: { userId, status: 'ready', ...(fileIds.length > 0 ? { id: In([...fileIds]) } : {}) },
    });
  }

  /** How many of `fileIds` are the user's own (any status). */
  async countOwned(userId: string, fileIds: readonly string[]): Promise<number> {
    if (fileIds.length === 0) return 0;
    return this.files.count({ where: { userId, id: In([...fileIds]) } });
  }

  /** The ids of the user's ready files (the only ones search may answer from). */
  async readyIds(userId: string): Promise<string[]> {
    // Read on every vector search: plain rows, no entities.
    const rows: { id: string }[] = await this.files
      .createQueryBuilder('f')
      .select('f.id', 'id')
      .where('f.user_id = :userId AND f.status = :ready', { userId, ready: 'ready' })
      .getRawMany();
    return rows.map((row) => row.id);
  }

  /** Removes the row; whether there was one. Its chunks go with it (ON DELETE CASCADE). */
  async remove(id: string, userId: string): Promise<boolean> {
    const deleted = await this.files.delete({ id, userId });
    return deleted.affected === 1;
  }

  /**
   * The ingestion step and its progress (0–100) as `GET /files/:id` shows them, and with `embeddedSeq` the last chunk
   * whose vector is stored; only while the file is processing.
   */
  async reportProgress(
    id: string,
    userId: string,
    stage: string,
    progress: number,
    embeddedSeq?: number,
  ): Promise<void> {
    await this.files.update(
      { id, userId, status: 'processing' },
      {
        stage,
        progress: Math.max(0, Math.min(100, Math.round(progress))),
        ...(embeddedSeq !== undefined ? { embeddedSeq } : {}),
      },
    );
  }

  /** The last chunk `seq` whose vector this processing file's ingestion stored, if any. */
  async embeddedThrough(id: string, userId: string): Promise<number | undefined> {
    const row = await this.files.findOne({
      where: { id, userId, status: 'processing' },
      select: { embeddedSeq: true },
    });
    return row?.embeddedSeq ?? undefined;
  }

  /** `processing` → `ready`. False when the file was not processing (deleted, failed, or already ready). */
  async markReady(
    id: string,
    userId: string,
    result: { chunks: number; embeddingModel: string | null },
  ): Promise<boolean> {
    const updated = await this.files.update(
      { id, userId, status: 'processing' },
      {
        status: 'ready',
        progress: 100,
        stage: null,
        chunkCount: result.chunks,
        embeddingModel: result.embeddingModel,
        errorCode: null,
        errorDetail: null,
      },
    );
    return (updated.affected ?? 0) > 0;
  }

  /** Marks the file failed with a reason the user is shown (cut to fit its columns). */
  async markFailed(id: string, userId: string, reason: { code: string; detail: string }): Promise<void> {
    await this.files.update(
      { id, userId },
      {
        status: 'failed',
        stage: null,
        errorCode: reason.code.slice(0, ERROR_CODE_MAX),
        errorDetail: reason.detail.slice(0, ERROR_DETAIL_MAX),
      },
    );
  }

  /**
   * Ready files to bring to the embedding `model`, in id order after `afterId`: those embedded with another model or
   * none, or every ready file with `all`. What the operator's re-embedding pages through.
   */
  async readyForReembedding(
    options: { model: string; all: boolean; afterId?: string },
    limit: number,
  ): Promise<{ id: string; userId: string }[]> {
    const qb = this.reembeddingQuery(options).select(['f.id', 'f.userId']).orderBy('f.id', 'ASC').limit(limit);
    if (options.afterId) qb.andWhere('f.id > :after', { after: options.afterId });
    return (await qb.getMany()).map((file) => ({ id: file.id, userId: file.userId }));
  }

  countReadyForReembedding(options: { model: string; all: boolean }): Promise<number> {
    return this.reembeddingQuery(options).getCount();
  }

  /** After a ready file's vectors were replaced: the model they are now from. False when it is no longer ready. */
  async recordEmbeddingModel(id: string, userId: string, model: string): Promise<boolean> {
    const updated = await this.files.update({ id, userId, status: 'ready' }, { embeddingModel: model });
    return updated.affected === 1;
  }

  /** Files uploaded before `cutoff` (any status), oldest first: what a purge by age removes. */
  async uploadedBefore(cutoff: Date, limit: number): Promise<{ id: string; userId: string }[]> {
    const rows = await this.files.find({
      select: { id: true, userId: true },
      where: { createdAt: LessThan(cutoff) },
      order: { createdAt: 'ASC', id: 'ASC' },
      take: limit,
    });
    return rows.map((file) => ({ id: file.id, userId: file.userId }));
  }

  /** Any `limit` of the user's files (any status): what purging the user removes. */
  async ownedBy(userId: string, limit: number): Promise<{ id: string; userId: string }[]> {
    const rows = await this.files.find({ select: { id: true, userId: true }, where: { userId }, take: limit });
    return rows.map((file) => ({ id: file.id, userId: file.userId }));
  }

  private reembeddingQuery(options: { model: string; all: boolean }) {
    const qb = this.files.createQueryBuilder('f').where('f.status = :ready', { ready: 'ready' });
    if (!options.all) {
      qb.andWhere('(f.embedding_model IS NULL OR f.embedding_model <> :model)', { model: options.model });
    }
    return qb;
  }
}

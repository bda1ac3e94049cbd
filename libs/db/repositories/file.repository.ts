import { In, type EntityManager } from 'typeorm';
import { FileEntity } from '../entities/file.entity';

/** Uploaded files' rows (the bytes live in the object store, the chunks in ChunkStore). */
export class FileRepository {
  constructor(private readonly manager: EntityManager) {}

  private get files() {
    return this.manager.getRepository(FileEntity);
  }

  /** Whether the user has a ready file (among `fileIds`, when given): retrieval has something to search. */
  async hasReadyFiles(userId: string, fileIds: readonly string[] = []): Promise<boolean> {
    return this.files.exists({
      where: { userId, status: 'ready', ...(fileIds.length > 0 ? { id: In([...fileIds]) } : {}) },
    });
  }

  /** How many of `fileIds` are the user's own (any status). */
  countOwned(userId: string, fileIds: readonly string[]): Promise<number> {
    return this.files.count({ where: { userId, id: In([...fileIds]) } });
  }
}

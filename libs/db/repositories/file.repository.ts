import type { EntityManager } from 'typeorm';

/** The uploaded files' rows (the bytes live in the object store, the chunks in ChunkStore). */
export class FileRepository {
  constructor(private readonly manager: EntityManager) {}
}

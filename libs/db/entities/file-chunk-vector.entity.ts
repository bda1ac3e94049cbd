import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A chunk's embedding, float32 little-endian; apart from the text so FULLTEXT searches stay in memory. */
@Entity({ name: 'file_chunk_vectors' })
export class FileChunkVectorEntity {
  @PrimaryColumn({ name: 'chunk_id', type: 'char', length: 36 })
  chunkId!: string;

  @Column({ name: 'file_id', type: 'char', length: 36 })
  fileId!: string;

  @Column({ name: 'user_id', type: 'char', length: 36 })
  userId!: string;

  @Column({ type: 'mediumblob' })
  embedding!: Buffer;
}

import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One retrievable passage of a file; its vector, when embeddings are on, is in `file_chunk_vectors`. */
@Entity({ name: 'file_chunks' })
export class FileChunkEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  @Column({ name: 'file_id', type: 'char', length: 36 })
  fileId!: string;

  @Column({ name: 'user_id', type: 'char', length: 36 })
  userId!: string;

  @Column({ type: 'int', unsigned: true })
  seq!: number;

  @Column({ type: 'varchar', length: 500, nullable: true })
  heading!: string | null;

  @Column({ type: 'mediumtext' })
  content!: string;

  @Column({ type: 'int', unsigned: true })
  tokens!: number;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}

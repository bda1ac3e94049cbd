import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One retrievable passage of a file. `embedding` is float32 little-endian, present when embeddings are on. */
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

  @Column({ type: 'mediumblob', nullable: true })
  embedding!: Buffer | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}

import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type FileKind = 'txt' | 'md' | 'html' | 'pdf' | 'docx' | 'csv' | 'json';
/** `uploading`: row written, bytes on their way; `processing`: the ingestFile workflow runs; then ready or failed. */
export type FileStatus = 'uploading' | 'processing' | 'ready' | 'failed';

/** A user's uploaded file. Owner-only: every read filters by `userId`. */
@Entity({ name: 'files' })
export class FileEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'char', length: 36 })
  userId!: string;

  /** The client's file name, cleaned of paths and control characters; never used to build a storage key. */
  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ type: 'enum', enum: ['txt', 'md', 'html', 'pdf', 'docx', 'csv', 'json'] })
  kind!: FileKind;

  @Column({ name: 'mime_type', type: 'varchar', length: 100 })
  mimeType!: string;

  /** Bytes stored; bigint columns come back from mysql2 as strings, so it is transformed. */
  @Column({
    type: 'bigint',
    unsigned: true,
    default: 0,
    transformer: { to: (v: number) => v, from: (v: string) => Number(v) },
  })
  size!: number;

  @Column({ type: 'char', length: 64, nullable: true })
  sha256!: string | null;

  @Column({ name: 'storage_key', type: 'varchar', length: 300 })
  storageKey!: string;

  @Column({ type: 'enum', enum: ['uploading', 'processing', 'ready', 'failed'], default: 'uploading' })
  status!: FileStatus;

  /** 0–100, written by the ingestFile workflow as it goes. */
  @Column({ type: 'tinyint', unsigned: true, default: 0 })
  progress!: number;

  /** The ingestion step running now (fetch, extract, chunk, embed, index). */
  @Column({ type: 'varchar', length: 32, nullable: true })
  stage!: string | null;

  @Column({ name: 'chunk_count', type: 'int', unsigned: true, default: 0 })
  chunkCount!: number;

  /** The highest chunk `seq` whose vector this file's ingestion stored (where a retried embedding step resumes). */
  @Column({ name: 'embedded_seq', type: 'int', nullable: true })
  embeddedSeq!: number | null;

  @Column({ name: 'embedding_model', type: 'varchar', length: 100, nullable: true })
  embeddingModel!: string | null;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode!: string | null;

  @Column({ name: 'error_detail', type: 'varchar', length: 1000, nullable: true })
  errorDetail!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}

import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { TurnStatus, TurnStep } from '../../contracts/chat-turn.contract';

export interface TurnOptions {
  webSearch?: boolean;
  fileIds?: string[];
  /** Tools the model may call. */
  tools?: string[];
}

/** One chat turn: a user message and the workflow run that answers it. */
@Entity({ name: 'turns' })
@Index(['userId', 'idempotencyKey'], { unique: true })
export class TurnEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  @Index()
  @Column({ name: 'conversation_id', type: 'char', length: 36 })
  conversationId!: string;

  @Column({ name: 'user_id', type: 'char', length: 36 })
  userId!: string;

  @Column({ name: 'user_message_id', type: 'char', length: 36 })
  userMessageId!: string;

  /** Chosen when the turn is created, so persisting the answer is idempotent by primary key. */
  @Column({ name: 'assistant_message_id', type: 'char', length: 36 })
  assistantMessageId!: string;

  @Column({ type: 'enum', enum: ['queued', 'running', 'completed', 'failed', 'cancelled'], default: 'queued' })
  status!: TurnStatus;

  @Column({ name: 'workflow_id', type: 'varchar', length: 100, unique: true })
  workflowId!: string;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 255, nullable: true })
  idempotencyKey!: string | null;

  /** SHA-256 of the request that created the turn, to refuse an Idempotency-Key reused for another request. */
  @Column({ name: 'request_hash', type: 'char', length: 64 })
  requestHash!: string;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId!: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  model!: string | null;

  @Column({ type: 'json', nullable: true })
  steps!: TurnStep[] | null;

  /** Web search and file selection asked for with the message; null = neither. */
  @Column({ type: 'json', nullable: true })
  options!: TurnOptions | null;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode!: string | null;

  @Column({ name: 'error_detail', type: 'varchar', length: 1000, nullable: true })
  errorDetail!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;

  @Column({ name: 'completed_at', type: 'datetime', precision: 3, nullable: true })
  completedAt!: Date | null;
}

import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Citation } from '../../contracts/chat-turn.contract';
import type { ReplayAnswerMetrics, ReplayBucket, ReplayVerdict } from '../../contracts/replay.contract';

/** One user turn answered by one arm: the answer, its metrics, the judge's verdict and its bucket. */
@Entity({ name: 'replay_results' })
export class ReplayResultEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', unsigned: true })
  id!: string;

  @Column({ name: 'replay_id', type: 'char', length: 36 })
  replayId!: string;

  @Column({ name: 'conversation_id', type: 'char', length: 36 })
  conversationId!: string;

  @Column({ name: 'turn_index', type: 'int', unsigned: true })
  turnIndex!: number;

  @Column({ name: 'arm_index', type: 'tinyint', unsigned: true })
  armIndex!: number;

  @Column({ name: 'user_message_id', type: 'char', length: 36 })
  userMessageId!: string;

  /** The answer the conversation had for this user message, on its branch; null when it had none. */
  @Column({ name: 'original_message_id', type: 'char', length: 36, nullable: true })
  originalMessageId!: string | null;

  @Column({ type: 'enum', enum: ['complete', 'failed'] })
  status!: 'complete' | 'failed';

  /** Empty when the generation failed. */
  @Column({ type: 'mediumtext' })
  content!: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  model!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  provider!: string | null;

  @Column({ type: 'json', nullable: true })
  citations!: Citation[] | null;

  @Column({ type: 'json' })
  metrics!: ReplayAnswerMetrics;

  /** The same metrics of the original answer (what the stored conversation says of it). */
  @Column({ name: 'original_metrics', type: 'json', nullable: true })
  originalMetrics!: ReplayAnswerMetrics | null;

  @Column({ type: 'json', nullable: true })
  verdict!: ReplayVerdict | null;

  @Column({ type: 'enum', enum: ['improved', 'regressed', 'unchanged'] })
  bucket!: ReplayBucket;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode!: string | null;

  @Column({ name: 'error_detail', type: 'varchar', length: 1000, nullable: true })
  errorDetail!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}

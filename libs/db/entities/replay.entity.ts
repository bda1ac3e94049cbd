import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type {
  ReplayArm,
  ReplayJudge,
  ReplayLimits,
  ReplayMode,
  ReplayProgress,
  ReplayStatus,
} from '../../contracts/replay.contract';
import type { ReplaySelection } from '../../replay/replay-selection';
import type { ReplaySummary } from '../../replay/replay-summary';

/** A batch replay: which conversations, against which arms, and how it went. */
@Entity({ name: 'replays' })
@Index(['createdBy', 'createdAt'])
export class ReplayEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  @Column({ name: 'created_by', type: 'char', length: 36 })
  createdBy!: string;

  @Column({
    type: 'enum',
    enum: ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled'],
    default: 'queued',
  })
  status!: ReplayStatus;

  @Column({ type: 'enum', enum: ['pinned', 'trajectory'] })
  mode!: ReplayMode;

  /** The selection as asked for (conversation ids are counted, not kept: `replay_conversations` has them). */
  @Column({ type: 'json' })
  selection!: ReplaySelection;

  @Column({ type: 'json' })
  arms!: ReplayArm[];

  @Column({ type: 'json', nullable: true })
  judge!: ReplayJudge | null;

  @Column({ type: 'json' })
  limits!: ReplayLimits;

  @Column({ type: 'int', unsigned: true })
  seed!: number;

  @Column({ name: 'total_conversations', type: 'int', unsigned: true })
  totalConversations!: number;

  /** The last progress the workflow recorded (its final one once the replay ended). */
  @Column({ type: 'json', nullable: true })
  progress!: ReplayProgress | null;

  @Column({ type: 'json', nullable: true })
  summary!: ReplaySummary | null;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode!: string | null;

  @Column({ name: 'error_detail', type: 'varchar', length: 1000, nullable: true })
  errorDetail!: string | null;

  @Column({ name: 'workflow_id', type: 'varchar', length: 100, unique: true })
  workflowId!: string;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 255, nullable: true })
  idempotencyKey!: string | null;

  /** SHA-256 of the request that created the replay, to refuse an Idempotency-Key reused for another request. */
  @Column({ name: 'request_hash', type: 'char', length: 64 })
  requestHash!: string;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;

  @Column({ name: 'started_at', type: 'datetime', precision: 3, nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'completed_at', type: 'datetime', precision: 3, nullable: true })
  completedAt!: Date | null;
}

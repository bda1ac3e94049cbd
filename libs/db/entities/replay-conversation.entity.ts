import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ReplayConversationStatus } from '../../contracts/replay.contract';

/** A conversation a replay covers, numbered in the order the replay takes them (`seq`, from 1). */
@Entity({ name: 'replay_conversations' })
export class ReplayConversationEntity {
  @PrimaryColumn({ name: 'replay_id', type: 'char', length: 36 })
  replayId!: string;

  @PrimaryColumn({ type: 'int', unsigned: true })
  seq!: number;

  @Column({ name: 'conversation_id', type: 'char', length: 36 })
  conversationId!: string;

  @Column({ type: 'enum', enum: ['pending', 'running', 'completed', 'failed', 'cancelled'], default: 'pending' })
  status!: ReplayConversationStatus;

  /** User turns replayed (each against every arm). */
  @Column({ type: 'int', unsigned: true, default: 0 })
  turns!: number;

  @Column({ name: 'error_code', type: 'varchar', length: 64, nullable: true })
  errorCode!: string | null;

  @Column({ name: 'error_detail', type: 'varchar', length: 1000, nullable: true })
  errorDetail!: string | null;

  @Column({ name: 'started_at', type: 'datetime', precision: 3, nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'completed_at', type: 'datetime', precision: 3, nullable: true })
  completedAt!: Date | null;
}

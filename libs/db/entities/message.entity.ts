import type { ToolCallRecord } from '../../contracts/tool-calls';
import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Citation, TokenUsage } from '../../contracts/chat-turn.contract';

export type MessageRole = 'user' | 'assistant' | 'system';
export type MessageStatus = 'complete' | 'cancelled' | 'failed';

/** Messages form a tree per conversation: `parentId` points at the message this one answers or follows. */
@Entity({ name: 'messages' })
@Index(['conversationId', 'createdAt'])
export class MessageEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  @Column({ name: 'conversation_id', type: 'char', length: 36 })
  conversationId!: string;

  @Index()
  @Column({ name: 'parent_id', type: 'char', length: 36, nullable: true })
  parentId!: string | null;

  @Column({ type: 'enum', enum: ['user', 'assistant', 'system'] })
  role!: MessageRole;

  @Column({ type: 'mediumtext' })
  content!: string;

  @Column({ type: 'enum', enum: ['complete', 'cancelled', 'failed'], default: 'complete' })
  status!: MessageStatus;

  @Column({ type: 'varchar', length: 100, nullable: true })
  model!: string | null;

  @Column({ name: 'turn_id', type: 'char', length: 36, nullable: true })
  turnId!: string | null;

  @Column({ type: 'json', nullable: true })
  citations!: Citation[] | null;

  @Column({ type: 'json', nullable: true })
  usage!: TokenUsage | null;

  @Column({ name: 'tool_calls', type: 'json', nullable: true })
  toolCalls?: ToolCallRecord[] | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;
}

import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'conversations' })
@Index(['ownerId', 'updatedAt'])
export class ConversationEntity {
  @PrimaryColumn({ type: 'char', length: 36 })
  id!: string;

  @Column({ name: 'owner_id', type: 'char', length: 36 })
  ownerId!: string;

  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  model!: string | null;

  @Column({ name: 'system_prompt', type: 'mediumtext', nullable: true })
  systemPrompt!: string | null;

  /** Tools the model may call when a message names none (`GET /tools` names); null: none. */
  @Column({ type: 'json', nullable: true })
  tools!: string[] | null;

  /** The leaf of the branch the conversation currently shows. */
  @Column({ name: 'current_message_id', type: 'char', length: 36, nullable: true })
  currentMessageId!: string | null;

  @Column({ name: 'archived_at', type: 'datetime', precision: 3, nullable: true })
  archivedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}

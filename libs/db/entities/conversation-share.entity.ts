import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export type SharePermission = 'read' | 'write';
export const SHARE_PERMISSIONS: readonly SharePermission[] = ['read', 'write'];

/** A conversation shared with one user (not its owner), read-only or read-write. */
@Entity({ name: 'conversation_shares' })
export class ConversationShareEntity {
  @PrimaryColumn({ name: 'conversation_id', type: 'char', length: 36 })
  conversationId!: string;

  @PrimaryColumn({ name: 'user_id', type: 'char', length: 36 })
  userId!: string;

  @Column({ type: 'enum', enum: SHARE_PERMISSIONS })
  permission!: SharePermission;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  /** Who shared it: the conversation's owner. */
  @Column({ name: 'created_by', type: 'char', length: 36 })
  createdBy!: string;
}

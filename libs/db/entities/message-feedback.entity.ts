import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const FEEDBACK_RATINGS = ['up', 'down'] as const;
export type FeedbackRating = (typeof FEEDBACK_RATINGS)[number];

/** One user's rating of one message; rating again replaces it. */
@Entity({ name: 'message_feedback' })
export class MessageFeedbackEntity {
  @PrimaryColumn({ name: 'message_id', type: 'char', length: 36 })
  messageId!: string;

  @PrimaryColumn({ name: 'user_id', type: 'char', length: 36 })
  userId!: string;

  @Column({ type: 'enum', enum: FEEDBACK_RATINGS })
  rating!: FeedbackRating;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  comment!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}

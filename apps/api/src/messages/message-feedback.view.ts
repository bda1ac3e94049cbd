import type { FeedbackRating } from '#libs/db/entities/message-feedback.entity';

export interface MessageFeedbackView {
  messageId: string;
  rating: FeedbackRating;
  comment: string | null;
  createdAt: string;
  updatedAt: string;
}

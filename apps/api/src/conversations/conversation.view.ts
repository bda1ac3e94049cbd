import type { MessageView } from '#libs/contracts/message-view';
import type { ConversationEntity } from '#libs/db/entities/conversation.entity';
import type { ConversationPermission } from '../access/conversation-permission';
import { type ExportedConversation, exportedConversationOf } from '#libs/chat/conversation-export';
import type { FeedbackRating, MessageFeedbackEntity } from '#libs/db/entities/message-feedback.entity';

/** The conversation's own fields, as the export format carries them, plus what the caller may do with it. */
export interface ConversationView extends ExportedConversation {
  /** True when someone else owns it and shared it with the caller. */
  shared: boolean;
  /** The caller's permission: `owner`, or the share's `read`/`write`. */
  permission: ConversationPermission;
}

export type { MessageView } from '#libs/contracts/message-view';
export { toMessageView } from '#libs/contracts/message-view';

/** The caller's own rating of a message (each user sees only theirs). */
export interface FeedbackView {
  rating: FeedbackRating;
  comment: string | null;
  updatedAt: string;
}

/** A message as the conversation routes show it: with the caller's feedback. */
export interface ConversationMessageView extends MessageView {
  feedback: FeedbackView | null;
}

export function toFeedbackView(feedback: MessageFeedbackEntity): FeedbackView {
  return { rating: feedback.rating, comment: feedback.comment, updatedAt: feedback.updatedAt.toISOString() };
}

export function toConversationView(
  conversation: ConversationEntity,
  permission: ConversationPermission,
): ConversationView {
  return { ...exportedConversationOf(conversation), shared: permission !== 'owner', permission };
}

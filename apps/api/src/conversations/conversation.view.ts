import type { ConversationEntity } from '#libs/db/entities/conversation.entity';
import type { ConversationPermission } from '../access/conversation-permission';
import type { MessageEntity } from '#libs/db/entities/message.entity';
import type { ExportedConversation } from '#libs/chat/conversation-export';
import type { Citation, TokenUsage } from '#libs/contracts/chat-turn.contract';
import type { FeedbackRating, MessageFeedbackEntity } from '#libs/db/entities/message-feedback.entity';

/** The conversation's own fields, as the export format carries them, plus what the caller may do with it. */
export interface ConversationView extends ExportedConversation {
  /** True when someone else owns it and shared it with the caller. */
  shared: boolean;
  /** The caller's permission: `owner`, or the share's `read`/`write`. */
  permission: ConversationPermission;
}

export interface MessageView {
  id: string;
  conversationId: string;
  parentId: string | null;
  role: 'user' | 'assistant' | 'system';
  content: string;
  status: 'complete' | 'cancelled' | 'failed';
  model: string | null;
  turnId: string | null;
  citations: Citation[];
  usage: TokenUsage | null;
  createdAt: string;
}

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
  return {
    id: conversation.id,
    title: conversation.title,
    model: conversation.model,
    systemPrompt: conversation.systemPrompt,
    archived: conversation.archivedAt !== null,
    currentMessageId: conversation.currentMessageId,
    createdAt: conversation.createdAt.toISOString(),
    updatedAt: conversation.updatedAt.toISOString(),
    shared: permission !== 'owner',
    permission,
  };
}

export function toMessageView(message: MessageEntity): MessageView {
  return {
    id: message.id,
    conversationId: message.conversationId,
    parentId: message.parentId,
    role: message.role,
    content: message.content,
    status: message.status,
    model: message.model,
    turnId: message.turnId,
    citations: message.citations ?? [],
    usage: message.usage,
    createdAt: message.createdAt.toISOString(),
  };
}

import type { MessageRole } from '#libs/db/entities/message.entity';

export interface MessageSearchHit {
  messageId: string;
  conversationId: string;
  conversationTitle: string;
  role: MessageRole;
  snippet: string;
  createdAt: string;
}

export interface MessageSearchPage {
  items: MessageSearchHit[];
  nextCursor?: string;
}

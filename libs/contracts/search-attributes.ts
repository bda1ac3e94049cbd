/**
 * The typed search attributes every run carries, so operators find runs in the Temporal UI (`UserId = "…"`). They
 * hold ids only, never user text. deploy/services.sh registers them with the dev server.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from './chat-turn.contract';

export const SEARCH_ATTRIBUTE_KEYS = {
  userId: defineSearchAttributeKey(SEARCH_ATTRIBUTES.userId, SearchAttributeType.KEYWORD),
  conversationId: defineSearchAttributeKey(SEARCH_ATTRIBUTES.conversationId, SearchAttributeType.KEYWORD),
  turnKind: defineSearchAttributeKey(SEARCH_ATTRIBUTES.turnKind, SearchAttributeType.KEYWORD),
  /** On a replay's parent run and on each of its conversations' runs. */
  replayId: defineSearchAttributeKey(SEARCH_ATTRIBUTES.replayId, SearchAttributeType.KEYWORD),
} as const;

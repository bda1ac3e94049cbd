/**
 * Which conversations a replay covers, as it is stored with the replay and shown back. Conversations named by id are
 * counted here, not listed: the replay's `replay_conversations` rows hold them.
 */
export interface ReplaySelection {
  /** How many conversations were named by id. */
  conversationIds?: number;
  /** Conversations owned by this user. */
  userId?: string;
  /** Created at or after (ISO 8601). */
  since?: string;
  /** Created before (ISO 8601). */
  until?: string;
  /** Some message of the conversation matches this search (as `GET /search/messages` matches). */
  query?: string;
}

/** One line for logs, memos and reports: `12 conversations by id`, `user …, since …, matching "…"`. */
export function describeSelection(selection: ReplaySelection): string {
  if (selection.conversationIds !== undefined) return `${selection.conversationIds} conversations by id`;
  const parts = [
    ...(selection.userId ? [`owned by ${selection.userId}`] : []),
    ...(selection.since ? [`created since ${selection.since}`] : []),
    ...(selection.until ? [`created before ${selection.until}`] : []),
    ...(selection.query ? [`matching "${selection.query}"`] : []),
  ];
  return parts.length > 0 ? `conversations ${parts.join(', ')}` : 'every readable conversation';
}

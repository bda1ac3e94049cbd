import { randomUUID } from 'node:crypto';

/**
 * The body of `POST /conversations/import` for one long conversation: `count` messages on one branch, questions
 * alternating with Markdown answers of ~40 words (code, a list). The browser test and the web client bench open it.
 */
export function longConversationImport(count: number, title = 'Five hundred messages') {
  const base = Date.parse('2026-01-01T00:00:00Z');
  const words = Array.from({ length: 40 }, (_, i) => `x${i}`).join(' ');
  const ids = Array.from({ length: count }, () => randomUUID());
  const messages = ids.map((id, i) => ({
    id,
    parentId: i === 0 ? null : ids[i - 1]!,
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: i % 2 === 0 ? `Question ${i}` : `Answer ${i} with \`code\` and a list:\n\n- one\n- two\n\n${words}`,
    status: 'complete',
    model: null,
    citations: [],
    usage: null,
    createdAt: new Date(base + i * 1000).toISOString(),
  }));
  return {
    format: 'gigachat.conversation',
    version: 1,
    exportedAt: new Date().toISOString(),
    conversation: {
      title,
      model: null,
      systemPrompt: null,
      archived: false,
      currentMessageId: ids[count - 1]!,
      createdAt: new Date(base).toISOString(),
      updatedAt: new Date(base).toISOString(),
    },
    messages,
  };
}

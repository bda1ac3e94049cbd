import type { Citation, TokenUsage } from '../contracts/chat-turn.contract';
import type { ConversationEntity } from '../db/entities/conversation.entity';
import type { MessageEntity, MessageRole, MessageStatus } from '../db/entities/message.entity';

/**
 * The conversation export format (`GET /conversations/:id/export?format=json`, `POST /conversations/import`): every
 * message of every branch, with ids and parent links, so a conversation can be moved between accounts or
 * installations without losing its tree. Markdown exports only the current branch, for people to read.
 */
export const EXPORT_FORMAT = 'gigachat.conversation';
export const EXPORT_VERSION = 1;
/** Most messages an import may carry (the request body limit applies as well). */
export const MAX_IMPORTED_MESSAGES = 5000;

export interface ExportedMessage {
  id: string;
  parentId: string | null;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  model: string | null;
  citations: Citation[];
  usage: TokenUsage | null;
  createdAt: string;
}

export interface ExportedConversation {
  id: string;
  title: string;
  model: string | null;
  systemPrompt: string | null;
  /** Tools the model may call when a message names none (`GET /tools` names); empty: none. */
  tools: string[];
  archived: boolean;
  currentMessageId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ConversationExport {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exportedAt: string;
  conversation: ExportedConversation;
  /** Oldest first (created_at, then id). */
  messages: ExportedMessage[];
}

/** A conversation's own fields, as the export carries them (and every conversation view starts with). */
export function exportedConversationOf(conversation: ConversationEntity): ExportedConversation {
  return {
    id: conversation.id,
    title: conversation.title,
    model: conversation.model,
    systemPrompt: conversation.systemPrompt,
    tools: conversation.tools ?? [],
    archived: conversation.archivedAt !== null,
    currentMessageId: conversation.currentMessageId,
    createdAt: conversation.createdAt.toISOString(),
    updatedAt: conversation.updatedAt.toISOString(),
  };
}

export function buildExport(
  conversation: ConversationEntity,
  messages: MessageEntity[],
  exportedAt: Date,
): ConversationExport {
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: exportedAt.toISOString(),
    conversation: exportedConversationOf(conversation),
    messages: [...messages].sort(byCreation).map((m) => ({
      id: m.id,
      parentId: m.parentId,
      role: m.role,
      content: m.content,
      status: m.status,
      model: m.model,
      citations: m.citations ?? [],
      usage: m.usage,
      createdAt: m.createdAt.toISOString(),
    })),
  };
}

function byCreation(a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A problem with the message tree of an import, named by the field path that causes it. */
export interface TreeProblem {
  field: string;
  message: string;
}

/**
 * Checks that the messages form a forest: ids unique, every parentId names a message of the same file, no cycles.
 * `currentMessageId`, when set, must name one of the messages.
 */
export function treeProblems(
  messages: readonly { id: string; parentId: string | null }[],
  currentMessageId: string | null,
): TreeProblem[] {
  const problems: TreeProblem[] = [];
  const parentOf = new Map<string, string | null>();
  messages.forEach((message, index) => {
    const id = message.id.toLowerCase();
    if (parentOf.has(id)) problems.push({ field: `messages.${index}.id`, message: 'is used by an earlier message' });
    else parentOf.set(id, message.parentId?.toLowerCase() ?? null);
  });
  messages.forEach((message, index) => {
    if (message.parentId !== null && !parentOf.has(message.parentId.toLowerCase())) {
      problems.push({ field: `messages.${index}.parentId`, message: 'must be the id of a message in this file' });
    }
  });
  if (currentMessageId !== null && !parentOf.has(currentMessageId.toLowerCase())) {
    problems.push({ field: 'conversation.currentMessageId', message: 'must be the id of a message in this file' });
  }
  if (problems.length > 0) return problems;
  // Walk up from each message; a walk that meets a message of its own path is a cycle. Settled messages are known
  // to reach a root, so every message is visited a bounded number of times overall.
  const settled = new Set<string>();
  messages.forEach((message, index) => {
    const path = new Set<string>();
    let at: string | null = message.id.toLowerCase();
    while (at !== null && !settled.has(at)) {
      if (path.has(at)) {
        problems.push({ field: `messages.${index}.parentId`, message: 'makes a cycle of parent links' });
        return;
      }
      path.add(at);
      at = parentOf.get(at) ?? null;
    }
    for (const id of path) settled.add(id);
  });
  return problems;
}

/** The current branch as Markdown: the title, the system prompt, then each message under its role. */
export function toMarkdown(conversation: ConversationEntity, branch: MessageEntity[]): string {
  const lines = [`# ${oneLine(conversation.title)}`, ''];
  const facts = [`Exported from GigaChat`, `created ${conversation.createdAt.toISOString()}`];
  if (conversation.model) facts.push(`model ${conversation.model}`);
  lines.push(`_${facts.join(', ')}._`, '');
  if (conversation.systemPrompt) lines.push('## System prompt', '', conversation.systemPrompt, '');
  for (const message of branch) {
    const heading = message.role === 'user' ? 'User' : message.role === 'assistant' ? 'Assistant' : 'System';
    const notes = [message.model, message.status !== 'complete' ? message.status : null].filter(Boolean);
    lines.push(`## ${heading}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`, '', message.content, '');
    const citations = message.citations ?? [];
    if (citations.length > 0) {
      lines.push('Sources:', '');
      citations.forEach((c, i) =>
        lines.push(`${i + 1}. ${c.url ? `[${oneLine(c.title)}](${c.url})` : oneLine(c.title)}`),
      );
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

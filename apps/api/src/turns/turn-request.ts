import { createHash } from 'node:crypto';
import type { SendMessageDto } from './dto/send-message.dto';

/**
 * What a new turn answers: a new user message (`POST /conversations/:id/messages`, and `PATCH /messages/:id`, which
 * sends the edited text as a sibling of the original) or an existing user message again (regenerate).
 */
export type TurnRequest =
  | {
      kind: 'message';
      conversationId: string;
      content: string;
      /** The message to answer: undefined for the end of the current branch, null for a new root. */
      parentMessageId?: string | null;
      model?: string;
      /** The user message this one edits (it only tells the request apart for Idempotency-Key). */
      editOf?: string;
      /** Search the web too; restrict retrieval to these files of the sender. */
      webSearch?: boolean;
      fileIds?: string[];
      /**
       * Tools the model may call (names from `GET /tools`); undefined: the conversation's tools, `[]`: none this time.
       */
      tools?: string[];
    }
  | { kind: 'regenerate'; conversationId: string; userMessageId: string; model?: string };

/** How a turn request was made: its Idempotency-Key (if any) and the request id that traces it. */
export interface TurnRequestOptions {
  idempotencyKey?: string;
  requestId: string;
}

/** The turn request of `POST /conversations/:id/messages`. */
export function messageRequest(conversationId: string, dto: SendMessageDto): TurnRequest {
  return {
    kind: 'message',
    conversationId,
    content: dto.content,
    ...(dto.parentMessageId !== undefined ? { parentMessageId: dto.parentMessageId } : {}),
    ...(dto.model !== undefined ? { model: dto.model } : {}),
    ...(dto.webSearch ? { webSearch: true } : {}),
    ...(dto.fileIds?.length ? { fileIds: [...new Set(dto.fileIds.map((id) => id.toLowerCase()))] } : {}),
    ...(dto.tools !== undefined ? { tools: [...new Set(dto.tools)] } : {}),
  };
}

/** What an Idempotency-Key is bound to: a key reused for a request with another hash is refused. */
export function requestHashOf(request: TurnRequest): string {
  return createHash('sha256')
    .update(JSON.stringify(hashedParts(request)))
    .digest('hex');
}

/** A plain send hashes exactly as it always did, so keys given before an upgrade still match. */
function hashedParts(request: TurnRequest): unknown[] {
  if (request.kind === 'regenerate') {
    return ['regenerate', request.conversationId, request.userMessageId, request.model ?? null];
  }
  const parts: unknown[] = [
    request.conversationId,
    request.content,
    request.parentMessageId ?? null,
    request.model ?? null,
  ];
  // Appended only when given, so a plain send binds its Idempotency-Key exactly as before.
  if (request.webSearch || request.fileIds?.length)
    parts.push({ webSearch: !!request.webSearch, fileIds: request.fileIds ?? [] });
  // `tools: []` (none, whatever the conversation's) is a request of its own, unlike leaving `tools` out.
  if (request.tools !== undefined) parts.push({ tools: request.tools });
  return request.editOf ? ['edit', request.editOf, ...parts] : parts;
}

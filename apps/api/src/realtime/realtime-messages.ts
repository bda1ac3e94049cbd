import { z } from 'zod';
import type { FieldProblem } from '#libs/errors/app-error';
import { STREAM_ID } from '#libs/events/turn-event-log';
import { IDEMPOTENCY_KEY } from '../turns/turn-responder';

/** An optional correlation value the client picks; echoed in the frames that answer the message. */
const ref = z.string().min(1).max(64).optional();
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');
const eventId = z.string().regex(STREAM_ID, 'must be an event id this stream sent');

const auth = z.object({ type: z.literal('auth'), ref, token: z.string().min(1).max(8192) }).strict();
const subscribe = z
  .object({ type: z.literal('subscribe'), ref, turnId: uuid, lastEventId: eventId.optional() })
  .strict();
const unsubscribe = z.object({ type: z.literal('unsubscribe'), ref, turnId: uuid }).strict();
const ping = z.object({ type: z.literal('ping'), ref }).strict();
/** The rest of a `send` (content, parentMessageId, model, …) is the body of POST /messages, validated as there. */
const send = z
  .object({
    type: z.literal('send'),
    ref,
    conversationId: uuid,
    idempotencyKey: z.string().regex(IDEMPOTENCY_KEY, 'must be 1-255 visible ASCII characters').optional(),
  })
  .catchall(z.unknown());

const SCHEMAS = { auth, subscribe, unsubscribe, ping, send } as const;

export type ClientMessage =
  | z.infer<typeof auth>
  | z.infer<typeof subscribe>
  | z.infer<typeof unsubscribe>
  | z.infer<typeof ping>
  | z.infer<typeof send>;

/** What the server sends (JSON text frames). */
export type ServerMessage =
  | { type: 'ready'; ref?: string; userId: string }
  | { type: 'pong'; ref?: string }
  | { type: 'turn'; ref?: string; turnId: string }
  | { type: 'event'; turnId: string; id: string; event: string; data: unknown }
  | {
      type: 'error';
      ref?: string;
      code: string;
      detail: string;
      turnId?: string;
      errors?: FieldProblem[];
      retryAfterSeconds?: number;
    };

export type ParsedMessage =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: 'invalid_message' | 'validation_failed'; detail: string; ref?: string; errors?: FieldProblem[] };

/** Parses one text frame from a client: JSON, a known `type`, and that type's fields. */
export function parseClientMessage(text: string): ParsedMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'invalid_message', detail: 'A message must be a JSON object' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'invalid_message', detail: 'A message must be a JSON object' };
  }
  const record = value as Record<string, unknown>;
  const reference = typeof record.ref === 'string' && record.ref.length <= 64 ? record.ref : undefined;
  const type = record.type;
  const schema =
    typeof type === 'string' && Object.hasOwn(SCHEMAS, type) ? SCHEMAS[type as keyof typeof SCHEMAS] : undefined;
  if (!schema) {
    return {
      ok: false,
      code: 'invalid_message',
      detail: `Unknown message type; expected one of ${Object.keys(SCHEMAS).join(', ')}`,
      ...(reference !== undefined ? { ref: reference } : {}),
    };
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data };
  return {
    ok: false,
    code: 'validation_failed',
    detail: 'The message is not valid',
    ...(reference !== undefined ? { ref: reference } : {}),
    errors: parsed.error.issues.map((issue) => ({
      field: issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : 'message'),
      message: issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message,
    })),
  };
}

import type { Redis } from 'ioredis';
import { turnEventsKey } from '#libs/events/turn-event-log';
import { API } from './api';
import type { Harness } from './harness';
import { openSse, type SseStream } from './sse';

/** A conversation's stored messages in order, as `role: content` lines (what a durability test counts). */
export async function storedMessages(h: Harness, conversationId: string): Promise<string[]> {
  const rows: { role: string; content: string }[] = await h.db.query(
    'SELECT role, content FROM messages WHERE conversation_id = ? ORDER BY created_at, id',
    [conversationId],
  );
  return rows.map((m) => `${m.role}: ${m.content}`);
}

/**
 * Sends `content` as the first turn of a new conversation (`Prefer: respond-async`, 202 at once) and follows its
 * events on the harness's real SSE endpoint.
 */
export async function startFollowedTurn(
  h: Harness,
  auth: string,
  content: string,
): Promise<{ conversationId: string; turnId: string; events: SseStream }> {
  const conversation = await h.http.post(`${API}/conversations`).set('Authorization', auth).send({});
  const sent = await h.http
    .post(`${API}/conversations/${conversation.body.id as string}/messages`)
    .set('Authorization', auth)
    .set('Prefer', 'respond-async')
    .send({ content });
  if (sent.status !== 202) throw new Error(`the turn was not accepted: ${sent.status} ${JSON.stringify(sent.body)}`);
  const turnId = sent.body.id as string;
  const events = await openSse(h.baseUrl, `${API}/turns/${turnId}/events`, { Authorization: auth });
  if (events.status !== 200) throw new Error(`its event stream answered ${events.status}`);
  return { conversationId: conversation.body.id as string, turnId, events };
}

/** A turn's events as its Redis Stream holds them, data parsed (`redis` with the harness's key prefix). */
export async function streamedEvents(
  redis: Redis,
  turnId: string,
): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const entries = await redis.xrange(turnEventsKey(turnId), '-', '+');
  return entries.map(([, fields]) => ({
    event: fields[fields.indexOf('event') + 1]!,
    data: JSON.parse(fields[fields.indexOf('data') + 1]!) as Record<string, unknown>,
  }));
}

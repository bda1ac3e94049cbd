import { asyncLocalStorage, type Context } from '@temporalio/activity';
import { AuditWriter } from '#libs/audit/audit-writer';
import type { TokenCounter } from '#libs/chat/token-counter';
import type { ChatTurnInput } from '#libs/contracts/chat-turn.contract';
import { isTerminalEvent, type TurnEventPayload } from '#libs/contracts/turn-events';
import { InMemoryChatStore } from '#libs/db/testing/in-memory-chat-store';
import type { TurnEventSink } from '#libs/events/turn-event-log';
import type { Logger } from '#libs/logging/logger';

/** For the chat activities' unit specs: a turn of a two-message conversation in memory, and what they emit. */
export const silentLogger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
} as unknown as Logger;

/** Counts a character as a token: budgets in specs stay easy to reason about. */
export const charCounter: TokenCounter = { count: (text: string) => text.length };

/** Records a turn's events; like the Redis sink, appends no events but tokens to a stream that already ended. */
export function recordingSink(): TurnEventSink & { events: TurnEventPayload[] } {
  const events: TurnEventPayload[] = [];
  const generations = new Map<number, string>();
  let cancelled: string | undefined;
  const ended = () => events.length > 0 && isTerminalEvent(events.at(-1)!.event);
  return {
    events,
    async append(_turnId, event) {
      // Like the Redis sink: tokens always, any other event only while the stream has not ended.
      if (event.event === 'token' || !ended()) events.push(event);
    },
    async appendAll(_turnId, more) {
      if (!ended()) events.push(...more);
    },
    async finish(_turnId, more) {
      if (!ended()) events.push(...more);
    },
    async beginGeneration(_turnId, round) {
      const earlier = generations.get(round);
      generations.set(round, earlier ?? 'started');
      if (earlier === undefined) return { restarted: false };
      return earlier === 'started' ? { restarted: true } : { kept: earlier, restarted: false };
    },
    async keepGeneration(_turnId, round, output) {
      generations.set(round, output);
    },
    async keepCancelled(_turnId, round, output) {
      generations.set(round, output);
      cancelled = output;
    },
    async cancelledPartial() {
      return cancelled;
    },
  };
}

export function chatTurnFixture() {
  const store = new InMemoryChatStore();
  store.addConversation({ id: 'c-1', ownerId: 'u-1', systemPrompt: 'Be brief.', currentMessageId: 'm-user' });
  store.addMessage({ id: 'm-first', conversationId: 'c-1', content: 'hello' });
  store.addMessage({
    id: 'm-reply',
    conversationId: 'c-1',
    parentId: 'm-first',
    role: 'assistant',
    content: 'hi there',
  });
  store.addMessage({ id: 'm-user', conversationId: 'c-1', parentId: 'm-reply', content: 'what is a workflow?' });
  const turn: ChatTurnInput = {
    turnId: 't-1',
    userId: 'u-1',
    conversationId: 'c-1',
    userMessageId: 'm-user',
    assistantMessageId: 'm-answer',
    requestId: 'req-1',
  };
  store.turns.set('t-1', {
    id: 't-1',
    conversationId: 'c-1',
    userId: 'u-1',
    userMessageId: 'm-user',
    assistantMessageId: 'm-answer',
    status: 'queued',
    workflowId: 'turn:t-1',
    idempotencyKey: null,
    requestHash: 'h',
    requestId: 'req-1',
    model: null,
    steps: null,
    options: null,
    errorCode: null,
    errorDetail: null,
    createdAt: new Date(),
    updatedAt: new Date(),
    completedAt: null,
  });
  const db = store.database();
  const events = recordingSink();
  return { store, db, turn, events, audit: new AuditWriter(db), logger: silentLogger };
}

/**
 * Runs `fn` as activity attempt `attempt` (a local activity with `isLocal`), with a cancellation signal the spec
 * controls.
 */
export function inActivity<T>(
  fn: () => Promise<T>,
  options: { attempt?: number; cancel?: AbortController; cancelRequested?: boolean; isLocal?: boolean } = {},
): Promise<T> {
  const ctx = {
    info: { attempt: options.attempt ?? 1, isLocal: options.isLocal ?? false },
    cancellationSignal: (options.cancel ?? new AbortController()).signal,
    get cancellationDetails() {
      return { cancelRequested: options.cancelRequested ?? false };
    },
    heartbeat: () => undefined,
  } as unknown as Context;
  return asyncLocalStorage.run(ctx, fn);
}

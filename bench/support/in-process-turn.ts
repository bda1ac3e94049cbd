import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { insertTurnRows } from '#libs/chat/turn-rows';
import { createChatActivities, type ChatActivities } from '#activities/chat.activities';
import { AuditWriter } from '#libs/audit/audit-writer';
import { createDatabase } from '#libs/db/database';
import { createTokenCounter } from '#libs/chat/token-counter';
import type { AppConfig } from '#libs/config/app-config';
import type { ChatTurnInput, PersistedAssistantMessage, TurnStep } from '#libs/contracts/chat-turn.contract';
import type { Redis } from 'ioredis';
import { createTurnEventSink, TurnEventLog } from '#libs/events/turn-event-log';
import { initialSteps } from '#libs/contracts/turn-steps';
import { RateLimiter } from '../../apps/api/src/security/rate-limiter';
import { securityOptionsFrom } from '../../apps/api/src/security/security.options';
import { createChatLlm, createChatSources } from '../../apps/worker/src/chat-sources';
import { runAsActivity } from './activity-context';
import { benchLogger } from './bench-logger';

/** Where one in-process turn spent its time, in ms. */
export interface InProcessTimings {
  createTurn: number;
  /** Loading the history and retrieving from the user's files, side by side (as the workflow runs them). */
  prepareTurn: number;
  generate: number;
  persist: number;
}

export interface InProcessTurn {
  input: ChatTurnInput;
  answer: PersistedAssistantMessage;
  timings: InProcessTimings;
}

/**
 * The chat turn's pipeline without HTTP and without Temporal, doing the same work otherwise: the API's chat rate limit
 * (a Redis script) and the rows it writes, then the workflow's activities in the workflow's order — prepareTurn
 * (loadContext ∥ retrieveFromFiles) → generate (streaming its events to the turn's Redis Stream) → persistAssistantMessage (which
 * writes the completion's audit row in its transaction) — built exactly as the worker builds them (the same providers
 * behind Redis breakers, the same sources, the same event sink).
 */
export class InProcessPipeline {
  private readonly activities: ChatActivities;
  private readonly rateLimiter: RateLimiter;

  constructor(
    private readonly db: DataSource,
    config: AppConfig,
    redis: Redis,
  ) {
    const logger = benchLogger(config, 'bench-in-process');
    const database = createDatabase(db);
    this.rateLimiter = new RateLimiter(redis, securityOptionsFrom(config.security), logger);
    this.activities = createChatActivities({
      db: database,
      audit: new AuditWriter(database),
      llm: createChatLlm(config, redis, logger),
      tokenCounter: createTokenCounter(),
      logger,
      contextTokens: config.llm.contextTokens,
      maxOutputTokens: config.llm.maxOutputTokens,
      events: createTurnEventSink(new TurnEventLog(redis), logger),
      ...createChatSources(config, { db, redis, logger }),
      retrievalTopK: config.retrieval.topK,
    });
  }

  async run(userId: string, conversationId: string, content: string): Promise<InProcessTurn> {
    const t0 = performance.now();
    const decision = await this.rateLimiter.hit('chat', userId);
    if (decision && !decision.allowed) throw new Error('the chat rate limit refused an in-process turn');
    const input = await createTurnRows(this.db, userId, conversationId, content);
    const t1 = performance.now();
    const steps: TurnStep[] = initialSteps(true);
    const { context, retrieval } = await runAsActivity('prepareTurn', () => this.activities.prepareTurn(input));
    const t2 = performance.now();
    const generation = await runAsActivity(
      'generate',
      () => this.activities.generate({ turn: input, context, sources: retrieval.sources }),
      { startToCloseTimeoutMs: 300_000, heartbeatTimeoutMs: 10_000 },
    );
    const t3 = performance.now();
    const answer = await runAsActivity('persistAssistantMessage', () =>
      this.activities.persistAssistantMessage({ turn: input, generation, steps }),
    );
    const t4 = performance.now();
    return {
      input,
      answer,
      timings: { createTurn: t1 - t0, prepareTurn: t2 - t1, generate: t3 - t2, persist: t4 - t3 },
    };
  }
}

/**
 * The writes of `TurnsService.create` (the same `insertTurnRows`, without an Idempotency-Key): under a lock on the conversation, the user's
 * message and the queued turn are inserted and the conversation's branch moves to the new message.
 */
export async function createTurnRows(
  db: DataSource,
  userId: string,
  conversationId: string,
  content: string,
): Promise<ChatTurnInput> {
  const requestId = randomUUID();
  const requestHash = createHash('sha256')
    .update(JSON.stringify([conversationId, content, null, null]))
    .digest('hex');
  return createDatabase(db).transaction(async (tx) => {
    const conversation = await tx.conversations.findById(conversationId, { lock: true });
    if (conversation?.ownerId !== userId) throw new Error(`conversation ${conversationId} not found`);
    const { turn, userMessage } = await insertTurnRows(tx, {
      conversation,
      userId,
      parentId: conversation.currentMessageId,
      content,
      model: conversation.model,
      idempotencyKey: null,
      requestHash,
      requestId,
    });
    return {
      turnId: turn.id,
      userId,
      conversationId,
      userMessageId: userMessage.id,
      assistantMessageId: turn.assistantMessageId,
      ...(turn.model ? { model: turn.model } : {}),
      requestId,
    };
  });
}

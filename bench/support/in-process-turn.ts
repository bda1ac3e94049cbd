import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { insertTurnRows } from '#libs/chat/turn-rows';
import { createChatActivities, type ChatActivities } from '#activities/chat.activities';
import { AuditWriter } from '#libs/audit/audit-writer';
import { createDatabase } from '#libs/db/database';
import { createTokenCounter } from '#libs/chat/token-counter';
import type { AppConfig } from '#libs/config/app-config';
import type { ChatTurnInput, PersistedAssistantMessage, TurnStep } from '#libs/contracts/chat-turn.contract';
import { createLlmProvider } from '#libs/llm/create-llm-provider';
import { createLogger } from '#libs/logging/logger';
import { runAsActivity } from './activity-context';

/** Where one in-process turn spent its time, in ms. */
export interface InProcessTimings {
  createTurn: number;
  loadContext: number;
  generate: number;
  persist: number;
  audit: number;
}

export interface InProcessTurn {
  input: ChatTurnInput;
  answer: PersistedAssistantMessage;
  timings: InProcessTimings;
}

/**
 * The chat turn's pipeline without HTTP and without Temporal: the rows the API writes, then the workflow's
 * activities called in the workflow's order (loadContext → generate → persistAssistantMessage → recordAudit), built
 * exactly as the worker builds them. The audit is timed too: the workflow records it (a local activity) in the same
 * workflow task that completes the API's update, so the API's answer waits for it as well.
 */
export class InProcessPipeline {
  private readonly activities: ChatActivities;

  constructor(
    private readonly db: DataSource,
    config: AppConfig,
  ) {
    // Built as the worker builds it (the provider list behind one fallback chain), without the Redis breakers.
    const llm = createLlmProvider({
      providers: config.llm.providers,
      model: config.llm.model,
      timeoutMs: config.llm.timeoutMs,
    });
    const database = createDatabase(db);
    this.activities = createChatActivities({
      db: database,
      audit: new AuditWriter(database),
      llm,
      tokenCounter: createTokenCounter(),
      logger: createLogger({ level: config.logLevel, name: 'bench-in-process' }),
      contextTokens: config.llm.contextTokens,
      maxOutputTokens: config.llm.maxOutputTokens,
    });
  }

  async run(userId: string, conversationId: string, content: string): Promise<InProcessTurn> {
    const t0 = performance.now();
    const input = await createTurnRows(this.db, userId, conversationId, content);
    const t1 = performance.now();
    const steps: TurnStep[] = [
      { name: 'context', status: 'running' },
      { name: 'generation', status: 'pending' },
      { name: 'persistence', status: 'pending' },
    ];
    const context = await runAsActivity('loadContext', () => this.activities.loadContext(input));
    steps[0] = {
      name: 'context',
      status: 'completed',
      detail: `${context.messages.length} messages, ${context.promptTokens} tokens`,
    };
    const t2 = performance.now();
    const generation = await runAsActivity('generate', () => this.activities.generate({ turn: input, context }), {
      startToCloseTimeoutMs: 300_000,
      heartbeatTimeoutMs: 10_000,
    });
    steps[1] = { name: 'generation', status: 'completed', detail: `${generation.provider}/${generation.model}` };
    steps[2] = { name: 'persistence', status: 'running' };
    const t3 = performance.now();
    const answer = await runAsActivity('persistAssistantMessage', () =>
      this.activities.persistAssistantMessage({ turn: input, generation, steps }),
    );
    const t4 = performance.now();
    await runAsActivity('recordAudit', () =>
      this.activities.recordAudit({ turn: input, action: 'turn.completed', metadata: { model: answer.model } }),
    );
    const t5 = performance.now();
    return {
      input,
      answer,
      timings: { createTurn: t1 - t0, loadContext: t2 - t1, generate: t3 - t2, persist: t4 - t3, audit: t5 - t4 },
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

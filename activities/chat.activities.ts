import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { DataSource } from 'typeorm';
import { repositoriesFor } from '#libs/db/database';
import { fitContextWindow } from '#libs/chat/context-window';
import { assemblePrompt } from '#libs/chat/source-prompt';
import type { TokenCounter } from '#libs/chat/token-counter';
import type {
  ChatTurnInput,
  Citation,
  ContextMessage,
  ContextSource,
  GenerationOutput,
  LoadedContext,
  PersistedAssistantMessage,
  SourcesOutcome,
  StepName,
  TurnStep,
} from '#libs/contracts/chat-turn.contract';
import { TURN_FAILURE_TYPES } from '#libs/contracts/chat-turn.contract';
import { AuditLogEntity } from '#libs/db/entities/audit-log.entity';
import { ConversationEntity } from '#libs/db/entities/conversation.entity';
import { MessageEntity } from '#libs/db/entities/message.entity';
import { TurnEntity } from '#libs/db/entities/turn.entity';
import type { TurnEventSink } from '#libs/events/turn-event-log';
import { LlmError } from '#libs/llm/llm.error';
import type { LlmProvider } from '#libs/llm/llm-provider';
import type { Logger } from '#libs/logging/logger';

const MAX_RETRY_AFTER_MS = 60_000;
/** Attempts of a sources step (retrieval, web search) before the turn goes on without it; the workflow allows 3. */
const SOURCES_STEP_ATTEMPTS = 3;
/** Token deltas are appended to the turn's stream in batches: at most this often, or this many at once. */
const TOKEN_FLUSH_MS = 25;
const TOKEN_FLUSH_DELTAS = 32;

/** Passages from the user's own files (libs/retrieval's HybridRetriever). */
export interface FileRetriever {
  search(
    userId: string,
    query: string,
    options: { fileIds?: string[]; topK: number },
  ): Promise<{
    mode: 'hybrid' | 'lexical';
    chunks: { chunkId: string; fileId: string; fileName: string; heading: string | null; content: string }[];
    degradedReason?: string;
  }>;
}

/** Web results (libs/websearch's WebSearchService): never throws for the provider's problems, reports them. */
export interface WebSearcher {
  search(
    query: string,
  ): Promise<
    | { status: 'ok'; results: { title: string; url: string; snippet: string }[]; cached: boolean }
    | { status: 'skipped'; reason: string; detail: string }
  >;
}

export interface ChatActivityDeps {
  db: DataSource;
  llm: LlmProvider;
  tokens: TokenCounter;
  logger: Logger;
  contextTokens: number;
  maxOutputTokens: number;
  /** How often a running generation reports liveness to Temporal. */
  heartbeatIntervalMs?: number;
  /** Where live turn events go (a Redis Stream per turn); without it the turn runs the same, unstreamed. */
  events?: TurnEventSink;
  /** Retrieval over the user's files; without it the retrieval step is skipped. */
  retriever?: FileRetriever;
  /** Passages from files per turn (RETRIEVAL_TOP_K). */
  retrievalTopK?: number;
  /** Web search; without it a turn that asks for web results reports the step skipped. */
  webSearch?: WebSearcher;
}

/** Builds the chat turn's activities from their dependencies; the worker passes real clients, tests may pass others. */
export function createChatActivities(deps: ChatActivityDeps) {
  const { db, llm, tokens } = deps;
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? 2000;
  const events = deps.events;

  const logFor = (turn: ChatTurnInput, activity: string): Logger =>
    deps.logger.child({ requestId: turn.requestId, turnId: turn.turnId, workflowId: `turn:${turn.turnId}`, activity });

  const userMessageText = async (turn: ChatTurnInput): Promise<string> => {
    const message = await db.getRepository(MessageEntity).findOne({
      where: { id: turn.userMessageId, conversationId: turn.conversationId },
      select: { id: true, content: true },
    });
    if (!message)
      throw ApplicationFailure.nonRetryable(
        `Message ${turn.userMessageId} no longer exists`,
        TURN_FAILURE_TYPES.contextNotFound,
      );
    return message.content;
  };

  const hasReadyFiles = async (turn: ChatTurnInput): Promise<boolean> => {
    const fileIds = turn.fileIds ?? [];
    const rows: unknown[] = await db.query(
      `SELECT 1 FROM files WHERE user_id = ? AND status = 'ready'${
        fileIds.length > 0 ? ` AND id IN (${fileIds.map(() => '?').join(', ')})` : ''
      } LIMIT 1`,
      [turn.userId, ...fileIds],
    );
    return rows.length > 0;
  };

  /** Runs a sources step (retrieval, web search) with its live `step` events around it. */
  const sourcesStep = async (
    turn: ChatTurnInput,
    name: Extract<StepName, 'retrieval' | 'web_search'>,
    run: () => Promise<SourcesOutcome>,
  ): Promise<SourcesOutcome> => {
    await events?.append(turn.turnId, 'step', { name, status: 'running' });
    let outcome: SourcesOutcome;
    try {
      outcome = await run();
    } catch (error) {
      // Sources degrade a turn, never fail it: retried like any step, then answered without them.
      const gone = error instanceof ApplicationFailure && error.type === TURN_FAILURE_TYPES.contextNotFound;
      if (gone || Context.current().info.attempt < SOURCES_STEP_ATTEMPTS) throw error;
      const detail = `error: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
      logFor(turn, name).warn({ err: detail }, 'sources step failed; answering without it');
      outcome = { sources: [], status: 'skipped', detail: 'error: the search failed; answered without it' };
    }
    logFor(turn, name).debug({ status: outcome.status, detail: outcome.detail }, 'sources step finished');
    await events?.append(turn.turnId, 'step', { name, status: outcome.status, detail: outcome.detail });
    return outcome;
  };

  /** The part of an answer generated before the user cancelled, kept under the turn's answer id. */
  const savePartialAnswer = async (
    turn: ChatTurnInput,
    content: string,
    model: string,
    citations: Citation[],
  ): Promise<void> => {
    if (content.length === 0) return;
    await db
      .createQueryBuilder()
      .insert()
      .into(MessageEntity)
      .values(assistantRow(turn, { content, status: 'cancelled', model, citations, usage: null }))
      .orIgnore()
      .execute();
  };

  return {
    /** Marks the turn running and reads the branch that ends at the user's message, within the token budget. */
    async loadContext(turn: ChatTurnInput): Promise<LoadedContext> {
      const log = logFor(turn, 'loadContext');
      if (events) {
        if (Context.current().info.attempt === 1) {
          await events.append(turn.turnId, 'turn.started', {
            turnId: turn.turnId,
            conversationId: turn.conversationId,
            userMessageId: turn.userMessageId,
            assistantMessageId: turn.assistantMessageId,
          });
        }
        await events.append(turn.turnId, 'step', { name: 'context', status: 'running' });
      }
      const conversation = await db.getRepository(ConversationEntity).findOneBy({ id: turn.conversationId });
      if (!conversation) {
        throw ApplicationFailure.nonRetryable(
          `Conversation ${turn.conversationId} no longer exists`,
          TURN_FAILURE_TYPES.contextNotFound,
        );
      }
      await db.getRepository(TurnEntity).update({ id: turn.turnId, status: 'queued' }, { status: 'running' });
      const rows = await repositoriesFor(db.manager).messages.loadBranch(turn.conversationId, turn.userMessageId);
      if (rows.at(-1)?.id !== turn.userMessageId) {
        throw ApplicationFailure.nonRetryable(
          `Message ${turn.userMessageId} no longer exists`,
          TURN_FAILURE_TYPES.contextNotFound,
        );
      }
      const branch: ContextMessage[] = rows
        .filter((row) => row.status !== 'failed' && row.content.length > 0)
        .map((row) => ({ role: row.role, content: row.content }));
      const window = fitContextWindow(
        conversation.systemPrompt,
        branch,
        Math.max(deps.contextTokens - deps.maxOutputTokens, 64),
        tokens,
      );
      log.debug({ messages: window.messages.length, dropped: window.droppedMessages }, 'context loaded');
      await events?.append(turn.turnId, 'step', { name: 'context', status: 'completed' });
      return { ...window, model: turn.model ?? conversation.model ?? undefined };
    },

    /** The passages of the user's files that best match the message (hybrid lexical + vector search). */
    async retrieveFromFiles(turn: ChatTurnInput): Promise<SourcesOutcome> {
      return sourcesStep(turn, 'retrieval', async () => {
        if (!deps.retriever) return { sources: [], status: 'skipped', detail: 'retrieval is not configured' };
        // Most turns are of users with no files: skip the FULLTEXT match (it spans every user's chunks) and the
        // embedding call for the query.
        if (!(await hasReadyFiles(turn))) return { sources: [], status: 'skipped', detail: 'no ready files' };
        const query = await userMessageText(turn);
        const found = await deps.retriever.search(turn.userId, query, {
          fileIds: turn.fileIds,
          topK: deps.retrievalTopK ?? 5,
        });
        const sources: ContextSource[] = found.chunks.map((chunk) => ({
          kind: 'file',
          title: chunk.heading ? `${chunk.fileName} › ${chunk.heading}` : chunk.fileName,
          fileId: chunk.fileId,
          chunkId: chunk.chunkId,
          text: chunk.content,
        }));
        const degraded = found.degradedReason ? ` (vector search unavailable: ${found.degradedReason})` : '';
        return {
          sources,
          status: 'completed',
          detail: `${sources.length} passage${sources.length === 1 ? '' : 's'}, ${found.mode}${degraded}`,
        };
      });
    },

    /** Web results for the message through SearxNG; a failing search degrades the turn, never fails it. */
    async searchWeb(turn: ChatTurnInput): Promise<SourcesOutcome> {
      return sourcesStep(turn, 'web_search', async () => {
        if (!deps.webSearch)
          return { sources: [], status: 'skipped', detail: 'not_configured: SEARXNG_URL is not set' };
        const outcome = await deps.webSearch.search(await userMessageText(turn));
        if (outcome.status === 'skipped') {
          return { sources: [], status: 'skipped', detail: `${outcome.reason}: ${outcome.detail}` };
        }
        return {
          sources: outcome.results.map((result) => ({
            kind: 'web',
            title: result.title,
            url: result.url,
            text: result.snippet,
          })),
          status: 'completed',
          detail: `${outcome.results.length} result${outcome.results.length === 1 ? '' : 's'}${outcome.cached ? ', cached' : ''}`,
        };
      });
    },

    /** Calls the model, streaming; heartbeats so a dead worker is noticed and the call retried elsewhere. */
    async generate(args: {
      turn: ChatTurnInput;
      context: LoadedContext;
      sources?: ContextSource[];
    }): Promise<GenerationOutput> {
      const log = logFor(args.turn, 'generate');
      const ctx = Context.current();
      let content = '';
      let lastBeat = 0;
      const started = Date.now();
      const turnId = args.turn.turnId;
      // Deltas are batched into one `token` event per flush; appends are chained so they land in order.
      let batch: string[] = [];
      let timer: NodeJS.Timeout | undefined;
      let appended: Promise<void> = Promise.resolve();
      const flush = (): void => {
        if (timer) clearTimeout(timer);
        timer = undefined;
        if (!events || batch.length === 0) return;
        const delta = batch.join('');
        batch = [];
        appended = appended.then(() => events.append(turnId, 'token', { delta }));
      };
      if (events) {
        // A retry starts the answer over: a client drops the partial text it has on `restarted`.
        if (ctx.info.attempt > 1) await events.append(turnId, 'step', { name: 'generation', status: 'restarted' });
        await events.append(turnId, 'step', { name: 'generation', status: 'running' });
      }
      const prompt = assemblePrompt(
        args.context,
        args.sources ?? [],
        Math.max(deps.contextTokens - deps.maxOutputTokens, 64),
        tokens,
      );
      // Heartbeats carry liveness while the model thinks, and bring a cancellation request to this activity.
      const beat = setInterval(() => ctx.heartbeat({ chars: content.length }), heartbeatIntervalMs);
      try {
        const result = await llm.generate({
          model: args.context.model,
          messages: prompt.messages,
          maxTokens: deps.maxOutputTokens,
          signal: ctx.cancellationSignal,
          onDelta: (delta) => {
            content += delta;
            if (events && delta.length > 0) {
              batch.push(delta);
              if (batch.length >= TOKEN_FLUSH_DELTAS) flush();
              else timer ??= setTimeout(flush, TOKEN_FLUSH_MS);
            }
            const now = Date.now();
            if (now - lastBeat >= heartbeatIntervalMs) {
              lastBeat = now;
              ctx.heartbeat({ chars: content.length });
            }
          },
        });
        flush();
        await appended;
        await events?.append(turnId, 'step', { name: 'generation', status: 'completed' });
        log.info(
          { provider: result.provider, model: result.model, ms: Date.now() - started, attempt: ctx.info.attempt },
          'generation finished',
        );
        return {
          content: result.content,
          model: result.model,
          provider: result.provider,
          finishReason: result.finishReason,
          usage: result.usage,
          citations: prompt.citations,
        };
      } catch (error) {
        // Only a cancel the user asked for keeps a partial answer. The signal also fires when this worker shuts down
        // or the attempt times out: then the error goes to the retry policy and another attempt answers in full.
        if (ctx.cancellationSignal.aborted && ctx.cancellationDetails?.cancelRequested) {
          // The user cancelled: keep what was generated, marked cancelled, and report the cancellation.
          flush();
          await appended;
          await savePartialAnswer(args.turn, content, args.context.model ?? llm.defaultModel, prompt.citations);
          log.info({ chars: content.length }, 'generation cancelled');
          throw new CancelledFailure('The turn was cancelled');
        }
        if (error instanceof LlmError) {
          log.warn({ type: error.type, status: error.status, retryable: error.retryable }, 'generation failed');
          throw ApplicationFailure.create({
            message: error.message,
            type: error.type,
            nonRetryable: !error.retryable,
            // Honour the provider's Retry-After when it gives one (capped), else the retry policy's backoff.
            ...(error.retryAfterMs && error.retryAfterMs > 0
              ? { nextRetryDelay: Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS) }
              : {}),
          });
        }
        throw error;
      } finally {
        clearInterval(beat);
        // Whatever was generated before a failure still reaches the stream, before any later event.
        flush();
        await appended;
      }
    },

    /**
     * Writes the answer under the id chosen when the turn was created, so a retried or replayed activity finds it
     * already there and writes nothing twice. Completes the turn, moves the conversation's branch and appends the
     * `turn.completed` audit row in the same transaction.
     */
    async persistAssistantMessage(args: {
      turn: ChatTurnInput;
      generation: GenerationOutput;
      steps: TurnStep[];
    }): Promise<PersistedAssistantMessage> {
      const { turn, generation } = args;
      await events?.append(turn.turnId, 'step', { name: 'persistence', status: 'running' });
      const saved = await db.transaction(async (tx) => {
        const inserted = await tx
          .createQueryBuilder()
          .insert()
          .into(MessageEntity)
          .values(
            assistantRow(turn, {
              content: generation.content,
              status: 'complete',
              model: generation.model,
              citations: generation.citations ?? [],
              usage: generation.usage ?? null,
            }),
          )
          .orIgnore()
          .execute();
        let written = (inserted.raw as { affectedRows?: number }).affectedRows === 1;
        if (!written) {
          // A partial kept from an earlier, cancelled attempt is replaced by the full answer; a complete one stays.
          const replaced = await tx.getRepository(MessageEntity).update(
            { id: turn.assistantMessageId, status: 'cancelled' },
            {
              content: generation.content,
              status: 'complete',
              model: generation.model,
              citations: generation.citations ?? [],
              usage: generation.usage ?? null,
            },
          );
          written = (replaced.affected ?? 0) === 1;
        }
        // Written in the same transaction as the answer: both exist or neither, and a retry that finds the
        // answer already there (nothing inserted) finds its audit row too.
        if (written) {
          await tx.getRepository(AuditLogEntity).insert({
            actorId: turn.userId,
            action: 'turn.completed',
            targetType: 'turn',
            targetId: turn.turnId,
            requestId: turn.requestId,
            metadata: { conversationId: turn.conversationId, model: generation.model, provider: generation.provider },
          });
        }
        const steps = args.steps.map((step) =>
          step.name === 'persistence' ? { ...step, status: 'completed' as const } : step,
        );
        await tx
          .getRepository(TurnEntity)
          .update(
            { id: turn.turnId },
            { status: 'completed', steps, model: generation.model, completedAt: new Date() },
          );
        // Follow the new answer only when the conversation still shows the branch this turn extends.
        await tx
          .getRepository(ConversationEntity)
          .update(
            { id: turn.conversationId, currentMessageId: turn.userMessageId },
            { currentMessageId: turn.assistantMessageId },
          );
        return tx.getRepository(MessageEntity).findOneByOrFail({ id: turn.assistantMessageId });
      });
      logFor(turn, 'persistAssistantMessage').info({ messageId: saved.id }, 'assistant message persisted');
      const persisted = toPersisted(saved, turn, generation.model);
      // Only after the commit: a client that saw `message.completed` finds the message in the database.
      await events?.finish(turn.turnId, [
        { event: 'step', data: { name: 'persistence', status: 'completed' } },
        ...(persisted.citations.length > 0
          ? [{ event: 'citations' as const, data: { citations: persisted.citations } }]
          : []),
        { event: 'message.completed', data: { assistantMessage: { ...persisted, turnId: turn.turnId } } },
      ]);
      return persisted;
    },

    /**
     * Ends a cancelled turn: the turn row says cancelled, the partial answer (if any was generated) becomes the
     * conversation's current leaf, one `turn.cancelled` audit row, and the stream ends with `turn.cancelled`.
     */
    async finishCancelledTurn(args: {
      turn: ChatTurnInput;
      steps: TurnStep[];
    }): Promise<PersistedAssistantMessage | null> {
      const { turn } = args;
      const saved = await db.transaction(async (tx) => {
        await tx
          .getRepository(TurnEntity)
          .update({ id: turn.turnId }, { status: 'cancelled', steps: args.steps, completedAt: new Date() });
        const partial = await tx.getRepository(MessageEntity).findOneBy({ id: turn.assistantMessageId });
        if (partial) {
          await tx
            .getRepository(ConversationEntity)
            .update(
              { id: turn.conversationId, currentMessageId: turn.userMessageId },
              { currentMessageId: turn.assistantMessageId },
            );
        }
        const audited = await tx
          .getRepository(AuditLogEntity)
          .exists({ where: { action: 'turn.cancelled', targetType: 'turn', targetId: turn.turnId } });
        if (!audited) {
          await tx.getRepository(AuditLogEntity).insert({
            actorId: turn.userId,
            action: 'turn.cancelled',
            targetType: 'turn',
            targetId: turn.turnId,
            requestId: turn.requestId,
            metadata: { conversationId: turn.conversationId, partialChars: partial?.content.length ?? 0 },
          });
        }
        return partial;
      });
      const message = saved ? toPersisted(saved, turn) : null;
      logFor(turn, 'finishCancelledTurn').info({ partial: message !== null }, 'turn cancelled');
      await events?.finish(turn.turnId, [
        {
          event: 'turn.cancelled',
          data: { turnId: turn.turnId, assistantMessage: message ? { ...message, turnId: turn.turnId } : null },
        },
      ]);
      return message;
    },

    async markTurnFailed(args: {
      turn: ChatTurnInput;
      code: string;
      detail: string;
      steps: TurnStep[];
    }): Promise<void> {
      await db.getRepository(TurnEntity).update(
        { id: args.turn.turnId },
        {
          status: 'failed',
          errorCode: args.code.slice(0, 64),
          errorDetail: args.detail.slice(0, 1000),
          steps: args.steps,
          completedAt: new Date(),
        },
      );
      logFor(args.turn, 'markTurnFailed').warn({ code: args.code }, 'turn marked failed');
      const failedStep = args.steps.find((step) => step.status === 'failed');
      await events?.finish(args.turn.turnId, [
        ...(failedStep ? [{ event: 'step' as const, data: { name: failedStep.name, status: 'failed' } }] : []),
        { event: 'turn.failed', data: { code: args.code, detail: args.detail } },
      ]);
    },

    /** One audit row for a failed turn; keyed by turn and action so a retry does not add a second. */
    async recordAudit(args: {
      turn: ChatTurnInput;
      action: string;
      metadata?: Record<string, unknown>;
    }): Promise<void> {
      const { turn } = args;
      await db.transaction(async (tx) => {
        const existing = await tx
          .getRepository(AuditLogEntity)
          .exists({ where: { action: args.action, targetType: 'turn', targetId: turn.turnId } });
        if (existing) return;
        await tx.getRepository(AuditLogEntity).insert({
          actorId: turn.userId,
          action: args.action,
          targetType: 'turn',
          targetId: turn.turnId,
          requestId: turn.requestId,
          metadata: { conversationId: turn.conversationId, ...args.metadata },
        });
      });
    },
  };
}

export type ChatActivities = ReturnType<typeof createChatActivities>;

/** The assistant message row of a turn, under the id chosen when the turn was created. */
function assistantRow(
  turn: ChatTurnInput,
  answer: Pick<MessageEntity, 'content' | 'status' | 'model' | 'citations' | 'usage'>,
): Partial<MessageEntity> {
  return {
    id: turn.assistantMessageId,
    conversationId: turn.conversationId,
    parentId: turn.userMessageId,
    role: 'assistant',
    turnId: turn.turnId,
    ...answer,
  };
}

/** The stored answer as the update returns it and the API shows it. */
function toPersisted(saved: MessageEntity, turn: ChatTurnInput, fallbackModel = ''): PersistedAssistantMessage {
  return {
    id: saved.id,
    conversationId: saved.conversationId,
    parentId: turn.userMessageId,
    role: 'assistant',
    content: saved.content,
    status: saved.status === 'cancelled' ? 'cancelled' : 'complete',
    model: saved.model ?? fallbackModel,
    citations: saved.citations ?? [],
    usage: saved.usage,
    createdAt: saved.createdAt.toISOString(),
  };
}

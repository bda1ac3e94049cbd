import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DataSource } from 'typeorm';
import { loadBranch } from '../libs/chat/branch';
import { fitContextWindow } from '../libs/chat/context-window';
import type { TokenCounter } from '../libs/chat/token-counter';
import type {
  ChatTurnInput,
  ContextMessage,
  GenerationOutput,
  LoadedContext,
  PersistedAssistantMessage,
  TurnStep,
} from '../libs/contracts/chat-turn.contract';
import { AuditLogEntity } from '../libs/db/entities/audit-log.entity';
import { ConversationEntity } from '../libs/db/entities/conversation.entity';
import { MessageEntity } from '../libs/db/entities/message.entity';
import { TurnEntity } from '../libs/db/entities/turn.entity';
import type { TurnEventSink } from '../libs/events/turn-event-log';
import { LlmError } from '../libs/llm/llm.error';
import type { LlmProvider } from '../libs/llm/llm-provider';
import type { Logger } from '../libs/logging/logger';

const MAX_RETRY_AFTER_MS = 60_000;
/** Token deltas are appended to the turn's stream in batches: at most this often, or this many at once. */
const TOKEN_FLUSH_MS = 25;
const TOKEN_FLUSH_DELTAS = 32;

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
}

/** Builds the chat turn's activities from their dependencies; the worker passes real clients, tests may pass others. */
export function createChatActivities(deps: ChatActivityDeps) {
  const { db, llm, tokens } = deps;
  const heartbeatIntervalMs = deps.heartbeatIntervalMs ?? 2000;
  const events = deps.events;

  const logFor = (turn: ChatTurnInput, activity: string): Logger =>
    deps.logger.child({ requestId: turn.requestId, turnId: turn.turnId, workflowId: `turn:${turn.turnId}`, activity });

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
          'ContextNotFound',
        );
      }
      await db.getRepository(TurnEntity).update({ id: turn.turnId, status: 'queued' }, { status: 'running' });
      const rows = await loadBranch(db.manager, turn.conversationId, turn.userMessageId);
      if (rows.at(-1)?.id !== turn.userMessageId) {
        throw ApplicationFailure.nonRetryable(`Message ${turn.userMessageId} no longer exists`, 'ContextNotFound');
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

    /** Calls the model, streaming; heartbeats so a dead worker is noticed and the call retried elsewhere. */
    async generate(args: { turn: ChatTurnInput; context: LoadedContext }): Promise<GenerationOutput> {
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
      try {
        const result = await llm.generate({
          model: args.context.model,
          messages: args.context.messages,
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
        };
      } catch (error) {
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
          .values({
            id: turn.assistantMessageId,
            conversationId: turn.conversationId,
            parentId: turn.userMessageId,
            role: 'assistant',
            content: generation.content,
            status: 'complete',
            model: generation.model,
            turnId: turn.turnId,
            citations: [],
            usage: generation.usage ?? null,
          })
          .orIgnore()
          .execute();
        // Written in the same transaction as the answer: both exist or neither, and a retry that finds the
        // answer already there (nothing inserted) finds its audit row too.
        if ((inserted.raw as { affectedRows?: number }).affectedRows === 1) {
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
      const persisted: PersistedAssistantMessage = {
        id: saved.id,
        conversationId: saved.conversationId,
        parentId: turn.userMessageId,
        role: 'assistant',
        content: saved.content,
        status: 'complete',
        model: saved.model ?? generation.model,
        citations: saved.citations ?? [],
        usage: saved.usage,
        createdAt: saved.createdAt.toISOString(),
      };
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

import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { AuditWriter } from '#libs/audit/audit-writer';
import {
  replayWorkflowId,
  type ReplayBatchInput,
  type ReplayControlAction,
  type ReplayProgress,
} from '#libs/contracts/replay.contract';
import type { Database } from '#libs/db/database';
import { isDuplicateKey } from '#libs/db/database-errors';
import type { ReplayEntity } from '#libs/db/entities/replay.entity';
import { AppError, ConflictError, NotFoundError, ValidationError } from '#libs/errors/app-error';
import { ModelCatalog } from '#libs/llm/provider-registry';
import { collectReplaySummary } from '#libs/replay/collect-replay-summary';
import { renderReport, type ReplayReportFormat } from '#libs/replay/replay-report';
import type { Principal } from '../auth/principal';
import type { ClientInfo } from '../common/client-info';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { DATABASE } from '../infra/di-symbols';
import type { CreateReplayDto } from './dto/create-replay.dto';
import type { ListReplayResultsQuery } from './dto/list-replay-results.query';
import { ReplayNotRunningError, ReplayRunner } from './replay-runner';
import {
  decodeResultCursor,
  encodeResultCursor,
  type ReplayResultPage,
  toReplayResultView,
} from './replay-result.view';
import { planReplay } from './replay-plan';
import { type ReplayPage, type ReplayView, toReplayView } from './replay.view';

export interface CreatedReplay {
  view: ReplayView;
  /** False when an earlier request with the same Idempotency-Key created it. */
  isNew: boolean;
}

/**
 * Batch replays for administrators: checks a request and writes nothing unless all of it is valid (the selection is
 * resolved to the conversations the caller may read, every model must be served), then writes the replay and its
 * conversations in one transaction and starts its workflow. Reads progress from the workflow while it runs, results
 * and reports from the replay's own tables. A replay is its creator's: other callers get 404, admins included.
 */
@Injectable()
export class ReplaysService {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly audit: AuditWriter,
    private readonly runner: ReplayRunner,
    private readonly models: ModelCatalog,
  ) {}

  async create(
    principal: Principal,
    dto: CreateReplayDto,
    options: { idempotencyKey?: string; client: ClientInfo },
  ): Promise<CreatedReplay> {
    const requestHash = createHash('sha256').update(JSON.stringify(dto)).digest('hex');
    if (options.idempotencyKey) {
      const existing = await this.findByIdempotencyKey(principal, options.idempotencyKey, requestHash);
      if (existing) return existing;
    }
    const plan = await planReplay({ db: this.db, models: this.models }, principal, dto);
    const id = randomUUID();
    let replay: ReplayEntity;
    try {
      replay = await this.db.transaction(async (tx) => {
        const created = await tx.replays.create({
          id,
          createdBy: principal.userId,
          status: 'queued',
          mode: dto.mode,
          selection: plan.selection,
          arms: plan.arms,
          judge: plan.judge,
          limits: plan.limits,
          seed: plan.seed,
          totalConversations: plan.total,
          workflowId: replayWorkflowId(id),
          idempotencyKey: options.idempotencyKey ?? null,
          requestHash,
          requestId: options.client.requestId,
        });
        await tx.replays.enqueueConversations(id, plan.conversationIds);
        await this.audit.record(
          {
            actorId: principal.userId,
            action: 'replay.created',
            targetType: 'replay',
            targetId: id,
            metadata: {
              conversations: created.totalConversations,
              mode: dto.mode,
              models: plan.arms.map((arm) => arm.model),
              judge: plan.judge?.model ?? null,
            },
            ...options.client,
          },
          tx,
        );
        return created;
      });
    } catch (error) {
      // Two requests with the same Idempotency-Key raced: the loser answers with the winner's replay.
      if (options.idempotencyKey && isDuplicateKey(error)) {
        const existing = await this.findByIdempotencyKey(principal, options.idempotencyKey, requestHash);
        if (existing) return existing;
      }
      throw error;
    }
    await this.runner.start(batchInputOf(replay), replay.selection);
    return { view: toReplayView(replay, await this.progressOf(replay)), isNew: true };
  }

  async list(principal: Principal, query: { cursor?: string; limit?: number }): Promise<ReplayPage> {
    const limit = query.limit ?? 20;
    const after = decodeCursor(query.cursor);
    const rows = await this.db.replays.listByCreator(
      principal.userId,
      after ? { at: new Date(after.at), id: after.id } : undefined,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((replay) => toReplayView(replay, replay.progress ?? emptyProgress(replay))),
      nextCursor: rows.length > limit && last ? encodeCursor({ at: last.createdAt.toISOString(), id: last.id }) : null,
    };
  }

  async get(principal: Principal, replayId: string): Promise<ReplayView> {
    const replay = await this.requireReplay(principal, replayId);
    return toReplayView(replay, await this.progressOf(replay));
  }

  /** Pauses, resumes or cancels a running replay: 409 once it ended. */
  async control(
    principal: Principal,
    replayId: string,
    action: ReplayControlAction,
    client: ClientInfo,
  ): Promise<ReplayView> {
    const replay = await this.requireReplay(principal, replayId);
    if (!isRunning(replay)) throw new ConflictError(`The replay has ended (${replay.status})`);
    let progress: ReplayProgress;
    try {
      progress = await this.runner.control(replayId, action);
    } catch (error) {
      if (error instanceof ReplayNotRunningError) throw new ConflictError('The replay has ended');
      throw error;
    }
    await this.audit.record({
      actorId: principal.userId,
      action: `replay.${action === 'cancel' ? 'cancel_requested' : action === 'pause' ? 'paused' : 'resumed'}`,
      targetType: 'replay',
      targetId: replayId,
      ...client,
    });
    const current = (await this.db.replays.findById(replayId)) ?? replay;
    return toReplayView(current, { ...progress, ...(await this.liveTotals(replayId)) });
  }

  /** One page of answers, per turn: the user's message, the original answer and the arm's, metrics and verdict. */
  async results(principal: Principal, replayId: string, query: ListReplayResultsQuery): Promise<ReplayResultPage> {
    const replay = await this.requireReplay(principal, replayId);
    if (query.arm !== undefined && query.arm >= replay.arms.length) {
      throw new ValidationError([
        { field: 'arm', message: `must be an arm of this replay (0-${replay.arms.length - 1})` },
      ]);
    }
    const limit = query.limit ?? 50;
    const rows = await this.db.replays.resultPage(
      replayId,
      {
        ...(query.arm !== undefined ? { armIndex: query.arm } : {}),
        ...(query.bucket ? { bucket: query.bucket } : {}),
        ...(query.cursor ? { afterId: decodeResultCursor(query.cursor) } : {}),
      },
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => toReplayResultView(row, replay.arms)),
      nextCursor: rows.length > limit && last ? encodeResultCursor(last.result.id) : null,
    };
  }

  /** The report: summary per arm, the replay and its failed conversations, as JSON, CSV or Markdown. */
  async report(
    principal: Principal,
    replayId: string,
    format: ReplayReportFormat,
  ): Promise<{ contentType: string; body: string; filename: string }> {
    const replay = await this.requireReplay(principal, replayId);
    const summary = replay.summary ?? (await collectReplaySummary(this.db.replays, replayId, replay.arms));
    const failed = await this.db.replays.failedConversations(replayId, 1000);
    const view = toReplayView(replay, await this.progressOf(replay));
    const body = renderReport(
      {
        replay: {
          id: replay.id,
          status: view.status,
          mode: replay.mode,
          selection: replay.selection,
          arms: replay.arms,
          judge: replay.judge,
          createdAt: view.createdAt,
          completedAt: view.completedAt,
          progress: view.progress,
        },
        summary,
        failedConversations: failed.map((row) => ({
          conversationId: row.conversationId,
          code: row.errorCode,
          detail: row.errorDetail,
        })),
      },
      format,
    );
    const contentType = {
      json: 'application/json; charset=utf-8',
      csv: 'text/csv; charset=utf-8',
      md: 'text/markdown; charset=utf-8',
    }[format];
    return { contentType, body, filename: `replay-${replay.id}.${format}` };
  }

  /** The replay if the caller created it; 404 for anyone else (its results hold conversations only they may read). */
  private async requireReplay(principal: Principal, replayId: string): Promise<ReplayEntity> {
    const replay = await this.db.replays.findById(replayId);
    if (!replay || replay.createdBy !== principal.userId) throw new NotFoundError('The replay');
    return replay;
  }

  /** Live from the workflow while it runs (answers and tokens counted from the stored results); else as stored. */
  private async progressOf(replay: ReplayEntity): Promise<ReplayProgress> {
    if (!isRunning(replay)) return replay.progress ?? (await this.storedProgress(replay));
    const live = await this.runner.progress(replay.id);
    if (!live) return this.storedProgress(replay);
    return { ...live, ...(await this.liveTotals(replay.id)) };
  }

  private async liveTotals(replayId: string): Promise<Pick<ReplayProgress, 'turns' | 'tokens'>> {
    const totals = await this.db.replays.resultTotals(replayId);
    return {
      turns: { done: totals.done, failed: totals.failed },
      tokens: { prompt: totals.prompt, completion: totals.completion },
    };
  }

  /** Progress from the replay's rows alone (no worker to ask, or it ended before recording it). */
  private async storedProgress(replay: ReplayEntity): Promise<ReplayProgress> {
    const counts = await this.db.replays.conversationCounts(replay.id);
    return {
      ...emptyProgress(replay),
      conversations: {
        total: replay.totalConversations,
        done: counts.completed,
        failed: counts.failed,
        cancelled: counts.cancelled,
        running: counts.running,
        pending: counts.pending,
      },
      ...(await this.liveTotals(replay.id)),
    };
  }

  private async findByIdempotencyKey(
    principal: Principal,
    key: string,
    requestHash: string,
  ): Promise<CreatedReplay | undefined> {
    const replay = await this.db.replays.findByIdempotencyKey(principal.userId, key);
    if (!replay) return undefined;
    if (replay.requestHash !== requestHash) {
      throw new AppError('idempotency_key_reused', 'This Idempotency-Key was already used for a different replay');
    }
    // The first request may have failed to start the workflow (Temporal unreachable): start it now.
    if (replay.status === 'queued') await this.runner.start(batchInputOf(replay), replay.selection);
    return { view: toReplayView(replay, await this.progressOf(replay)), isNew: false };
  }
}

function isRunning(replay: ReplayEntity): boolean {
  return replay.status === 'queued' || replay.status === 'running' || replay.status === 'paused';
}

/** The workflow's input, from the stored replay alone (so a retried request starts the very same run). */
export function batchInputOf(replay: ReplayEntity): ReplayBatchInput {
  return {
    replayId: replay.id,
    createdBy: replay.createdBy,
    requestId: replay.requestId,
    mode: replay.mode,
    arms: replay.arms,
    ...(replay.judge ? { judge: replay.judge } : {}),
    seed: replay.seed,
    limits: replay.limits,
    totalConversations: replay.totalConversations,
  };
}

/** Progress before the workflow reported any. */
function emptyProgress(replay: ReplayEntity): ReplayProgress {
  return {
    status: replay.status,
    conversations: {
      total: replay.totalConversations,
      done: 0,
      failed: 0,
      cancelled: 0,
      running: 0,
      pending: replay.totalConversations,
    },
    turns: { done: 0, failed: 0 },
    tokens: { prompt: 0, completion: 0 },
    startedAt: replay.startedAt?.toISOString() ?? null,
    etaSeconds: null,
    runs: 0,
  };
}

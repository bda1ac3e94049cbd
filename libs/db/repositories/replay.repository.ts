import { In, type EntityManager } from 'typeorm';
import type {
  ReplayBucket,
  ReplayConversationStatus,
  ReplayProgress,
  ReplayStatus,
  ReplayVerdict,
} from '../../contracts/replay.contract';
import type { ReplaySummary } from '../../replay/replay-summary';
import { MessageEntity } from '../entities/message.entity';
import { ReplayConversationEntity } from '../entities/replay-conversation.entity';
import { ReplayResultEntity } from '../entities/replay-result.entity';
import { ReplayEntity } from '../entities/replay.entity';
import type { KeysetPosition } from './keyset-position';

/** Rows per INSERT when a replay's conversations are written from a list of ids. */
const INSERT_BATCH = 1000;

export type NewReplay = Omit<
  ReplayEntity,
  'createdAt' | 'updatedAt' | 'startedAt' | 'completedAt' | 'progress' | 'summary' | 'errorCode' | 'errorDetail'
>;

export type NewReplayResult = Omit<ReplayResultEntity, 'id' | 'createdAt'>;

/**
 * Which conversations a selection covers: always only those `readerId` may read (owns, or has a share of), narrowed by
 * owner, creation time and a FULLTEXT boolean query over their messages.
 */
export interface ReadableConversationFilter {
  readerId: string;
  ownerId?: string;
  /** Created at or after. */
  since?: Date;
  /** Created before. */
  until?: Date;
  /** `MATCH … AGAINST (? IN BOOLEAN MODE)` text: some message of the conversation matches it. */
  booleanQuery?: string;
}

/** A result with the texts it is compared with: the user's message and the original answer (when still there). */
export interface ReplayResultWithMessages {
  result: ReplayResultEntity;
  userMessage: MessageEntity | null;
  original: MessageEntity | null;
}

export interface ReplayResultFilter {
  armIndex?: number;
  bucket?: ReplayBucket;
  /** Results after this id (the page cursor). */
  afterId?: string;
}

/** The columns a summary is computed from. */
export type ReplaySummaryRow = Pick<
  ReplayResultEntity,
  'id' | 'armIndex' | 'status' | 'metrics' | 'originalMetrics' | 'verdict' | 'bucket'
>;

export interface ReplayConversationCounts {
  pending: number;
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
}

/** Batch replays: the replay, the conversations it covers, and every answer it got (never the original messages). */
export class ReplayRepository {
  constructor(private readonly manager: EntityManager) {}

  private get replays() {
    return this.manager.getRepository(ReplayEntity);
  }

  private get conversations() {
    return this.manager.getRepository(ReplayConversationEntity);
  }

  private get results() {
    return this.manager.getRepository(ReplayResultEntity);
  }

  async create(replay: NewReplay): Promise<ReplayEntity> {
    await this.replays.insert(replay);
    return this.replays.findOneByOrFail({ id: replay.id });
  }

  findById(id: string): Promise<ReplayEntity | null> {
    return this.replays.findOneBy({ id });
  }

  /** The replay a user's earlier request with this Idempotency-Key created. */
  findByIdempotencyKey(createdBy: string, idempotencyKey: string): Promise<ReplayEntity | null> {
    return this.replays.findOneBy({ createdBy, idempotencyKey });
  }

  /** The user's replays, newest first (creation time, then id), after `after`. */
  listByCreator(createdBy: string, after: KeysetPosition | undefined, limit: number): Promise<ReplayEntity[]> {
    const qb = this.replays
      .createQueryBuilder('r')
      .where('r.created_by = :createdBy', { createdBy })
      .orderBy('r.created_at', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(limit);
    if (after) qb.andWhere('(r.created_at < :at OR (r.created_at = :at AND r.id < :id))', after);
    return qb.getMany();
  }

  /** Of these conversation ids, the ones `readerId` may read. */
  async readableAmong(readerId: string, conversationIds: readonly string[]): Promise<string[]> {
    if (conversationIds.length === 0) return [];
    const rows: { id: string }[] = await this.manager.query(
      `SELECT c.id FROM conversations c
        WHERE c.id IN (?) AND (c.owner_id = ? OR EXISTS (
          SELECT 1 FROM conversation_shares s WHERE s.conversation_id = c.id AND s.user_id = ?))`,
      [conversationIds, readerId, readerId],
    );
    return rows.map((row) => row.id);
  }

  /**
   * The conversations the filter selects, by creation time (then id): a replay's conversations in the order it takes
   * them. Read outside the transaction that writes them, so what was counted is what is written.
   */
  async readableIds(filter: ReadableConversationFilter): Promise<string[]> {
    const { where, params } = readableWhere(filter);
    const rows: { id: string }[] = await this.manager.query(
      `SELECT c.id FROM conversations c WHERE ${where} ORDER BY c.created_at, c.id`,
      params,
    );
    return rows.map((row) => row.id);
  }

  /** Writes these conversations as the replay's, numbered from 1 in the order given. */
  async enqueueConversations(replayId: string, conversationIds: readonly string[]): Promise<void> {
    for (let i = 0; i < conversationIds.length; i += INSERT_BATCH) {
      await this.conversations.insert(
        conversationIds
          .slice(i, i + INSERT_BATCH)
          .map((conversationId, offset) => ({ replayId, seq: i + offset + 1, conversationId })),
      );
    }
  }

  /** The next `limit` conversations of the replay after sequence number `afterSeq`, in order. */
  listConversations(replayId: string, afterSeq: number, limit: number): Promise<ReplayConversationEntity[]> {
    return this.conversations
      .createQueryBuilder('rc')
      .where('rc.replay_id = :replayId AND rc.seq > :afterSeq', { replayId, afterSeq })
      .orderBy('rc.seq', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** The replay's conversations counted by status. */
  async conversationCounts(replayId: string): Promise<ReplayConversationCounts> {
    const rows: { status: ReplayConversationStatus; n: string | number }[] = await this.manager.query(
      'SELECT status, COUNT(*) AS n FROM replay_conversations WHERE replay_id = ? GROUP BY status',
      [replayId],
    );
    const counts: ReplayConversationCounts = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const row of rows) counts[row.status] = Number(row.n);
    return counts;
  }

  /** The replay's conversations that failed, in order, with their reasons. */
  failedConversations(replayId: string, limit: number): Promise<ReplayConversationEntity[]> {
    return this.conversations.find({
      where: { replayId, status: 'failed' },
      order: { seq: 'ASC' },
      take: limit,
    });
  }

  /** Turns answered and failed, and the tokens spent, over every result of the replay so far. */
  async resultTotals(replayId: string): Promise<{ done: number; failed: number; prompt: number; completion: number }> {
    const rows: { done: unknown; failed: unknown; prompt: unknown; completion: unknown }[] = await this.manager.query(
      `SELECT SUM(status = 'complete') AS done, SUM(status = 'failed') AS failed,
              SUM(COALESCE(JSON_VALUE(metrics, '$.promptTokens'), 0)) AS prompt,
              SUM(COALESCE(JSON_VALUE(metrics, '$.completionTokens'), 0)) AS completion
         FROM replay_results WHERE replay_id = ?`,
      [replayId],
    );
    const row = rows[0];
    return {
      done: Number(row?.done ?? 0),
      failed: Number(row?.failed ?? 0),
      prompt: Number(row?.prompt ?? 0),
      completion: Number(row?.completion ?? 0),
    };
  }

  /** A queued replay's workflow picked it up. */
  async markStarted(id: string): Promise<void> {
    await this.replays.update({ id, status: 'queued' }, { status: 'running', startedAt: new Date() });
  }

  /** Paused or running again (only while it has not ended). */
  async setRunningState(id: string, status: 'running' | 'paused', progress: ReplayProgress): Promise<void> {
    await this.replays
      .createQueryBuilder()
      .update(ReplayEntity)
      .set({ status, progress })
      .where("id = :id AND status IN ('queued', 'running', 'paused')", { id })
      .execute();
  }

  /** The replay ended: its final status, progress and summary. True if this call ended it. */
  async finish(
    id: string,
    outcome: {
      status: Extract<ReplayStatus, 'completed' | 'failed' | 'cancelled'>;
      progress: ReplayProgress;
      summary: ReplaySummary;
      error?: { code: string; detail: string };
    },
  ): Promise<boolean> {
    const result = await this.replays
      .createQueryBuilder()
      .update(ReplayEntity)
      .set({
        status: outcome.status,
        progress: outcome.progress,
        summary: outcome.summary,
        errorCode: outcome.error?.code.slice(0, 64) ?? null,
        errorDetail: outcome.error?.detail.slice(0, 1000) ?? null,
        completedAt: () => 'CURRENT_TIMESTAMP(3)',
      })
      .where("id = :id AND status IN ('queued', 'running', 'paused')", { id })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /** A conversation's replay began (again, after a worker crash: nothing changes then). */
  async markConversationRunning(replayId: string, conversationId: string): Promise<void> {
    await this.conversations
      .createQueryBuilder()
      .update(ReplayConversationEntity)
      .set({ status: 'running', startedAt: () => 'COALESCE(started_at, CURRENT_TIMESTAMP(3))' })
      .where("replay_id = :replayId AND conversation_id = :conversationId AND status IN ('pending', 'running')", {
        replayId,
        conversationId,
      })
      .execute();
  }

  /** A conversation's replay ended, with how many turns it replayed and, when it failed, why. */
  async finishConversation(
    replayId: string,
    conversationId: string,
    outcome: {
      status: Extract<ReplayConversationStatus, 'completed' | 'failed' | 'cancelled'>;
      turns: number;
      error?: { code: string; detail: string };
    },
  ): Promise<void> {
    await this.conversations.update(
      { replayId, conversationId },
      {
        status: outcome.status,
        turns: outcome.turns,
        errorCode: outcome.error?.code.slice(0, 64) ?? null,
        errorDetail: outcome.error?.detail.slice(0, 1000) ?? null,
        completedAt: new Date(),
      },
    );
  }

  /** Conversations that had not ended when the replay was cancelled. */
  async cancelUnfinished(replayId: string): Promise<void> {
    await this.conversations
      .createQueryBuilder()
      .update(ReplayConversationEntity)
      .set({ status: 'cancelled', completedAt: () => 'CURRENT_TIMESTAMP(3)' })
      .where("replay_id = :replayId AND status IN ('pending', 'running')", { replayId })
      .execute();
  }

  /** Stores an answer unless one for this turn and arm is stored already (a retried step): true if new. */
  async insertResult(row: NewReplayResult): Promise<boolean> {
    const result = await this.manager
      .createQueryBuilder()
      .insert()
      .into(ReplayResultEntity)
      .values(row)
      .orIgnore()
      .execute();
    return (result.raw as { affectedRows?: number }).affectedRows === 1;
  }

  findResult(
    replayId: string,
    conversationId: string,
    turnIndex: number,
    armIndex: number,
  ): Promise<ReplayResultEntity | null> {
    return this.results.findOneBy({ replayId, conversationId, turnIndex, armIndex });
  }

  /** An arm's stored answers to the conversation's turns before `beforeTurn`, in turn order (its own trajectory). */
  armAnswers(
    replayId: string,
    conversationId: string,
    armIndex: number,
    beforeTurn: number,
  ): Promise<Pick<ReplayResultEntity, 'turnIndex' | 'status' | 'content'>[]> {
    return this.results
      .createQueryBuilder('r')
      .select(['r.turnIndex', 'r.status', 'r.content'])
      .where('r.replay_id = :replayId AND r.conversation_id = :conversationId AND r.arm_index = :armIndex', {
        replayId,
        conversationId,
        armIndex,
      })
      .andWhere('r.turn_index < :beforeTurn', { beforeTurn })
      .orderBy('r.turn_index', 'ASC')
      .getMany();
  }

  /** Records the judge's verdict and the bucket it puts the answer in, once (a retried judge changes nothing). */
  async recordVerdict(id: string, verdict: ReplayVerdict, bucket: ReplayBucket): Promise<boolean> {
    const result = await this.results
      .createQueryBuilder()
      .update(ReplayResultEntity)
      .set({ verdict: verdict, bucket })
      .where('id = :id AND verdict IS NULL', { id })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /** One page of results in the order they were stored, with the user's message and the original answer. */
  async resultPage(replayId: string, filter: ReplayResultFilter, limit: number): Promise<ReplayResultWithMessages[]> {
    const qb = this.results
      .createQueryBuilder('r')
      .where('r.replay_id = :replayId', { replayId })
      .orderBy('r.id', 'ASC')
      .limit(limit);
    if (filter.armIndex !== undefined) qb.andWhere('r.arm_index = :arm', { arm: filter.armIndex });
    if (filter.bucket) qb.andWhere('r.bucket = :bucket', { bucket: filter.bucket });
    if (filter.afterId) qb.andWhere('r.id > CAST(:after AS UNSIGNED)', { after: filter.afterId });
    const results = await qb.getMany();
    const ids = [
      ...new Set(results.flatMap((r) => [r.userMessageId, ...(r.originalMessageId ? [r.originalMessageId] : [])])),
    ];
    const messages = ids.length === 0 ? [] : await this.manager.getRepository(MessageEntity).findBy({ id: In(ids) });
    const byId = new Map(messages.map((message) => [message.id, message]));
    return results.map((result) => ({
      result,
      userMessage: byId.get(result.userMessageId) ?? null,
      original: result.originalMessageId ? (byId.get(result.originalMessageId) ?? null) : null,
    }));
  }

  /** A page of what the summary is computed from, in id order after `afterId`. */
  summaryRows(replayId: string, afterId: string | undefined, limit: number): Promise<ReplaySummaryRow[]> {
    const qb = this.results
      .createQueryBuilder('r')
      .select(['r.id', 'r.armIndex', 'r.status', 'r.metrics', 'r.originalMetrics', 'r.verdict', 'r.bucket'])
      .where('r.replay_id = :replayId', { replayId })
      .orderBy('r.id', 'ASC')
      .limit(limit);
    if (afterId) qb.andWhere('r.id > CAST(:after AS UNSIGNED)', { after: afterId });
    return qb.getMany();
  }
}

function readableWhere(filter: ReadableConversationFilter): { where: string; params: unknown[] } {
  const clauses = [
    '(c.owner_id = ? OR EXISTS (SELECT 1 FROM conversation_shares s WHERE s.conversation_id = c.id AND s.user_id = ?))',
  ];
  const params: unknown[] = [filter.readerId, filter.readerId];
  if (filter.ownerId) {
    clauses.push('c.owner_id = ?');
    params.push(filter.ownerId);
  }
  if (filter.since) {
    clauses.push('c.created_at >= ?');
    params.push(filter.since);
  }
  if (filter.until) {
    clauses.push('c.created_at < ?');
    params.push(filter.until);
  }
  if (filter.booleanQuery) {
    clauses.push(
      'EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND MATCH (m.content) AGAINST (? IN BOOLEAN MODE))',
    );
    params.push(filter.booleanQuery);
  }
  return { where: clauses.join(' AND '), params };
}

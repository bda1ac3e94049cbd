import type { ReplayBucket, ReplayConversationStatus, ReplayVerdict } from '#libs/contracts/replay.contract';
import type { ReplayConversationEntity } from '#libs/db/entities/replay-conversation.entity';
import type { ReplayResultEntity } from '#libs/db/entities/replay-result.entity';
import type { ReplayEntity } from '#libs/db/entities/replay.entity';
import type {
  NewReplay,
  NewReplayResult,
  ReplayConversationCounts,
  ReplayRepository,
} from '#libs/db/repositories/replay.repository';

type Public<T> = { [K in keyof T]: T[K] };

/**
 * For unit specs: the replay tables in memory, behind the ReplayRepository methods the replay activities, the chat
 * steps and the replays service call (the selection queries answer from `readable`, a list of conversations the
 * specs set up). Results are unique per replay, conversation, turn and arm, as in MySQL.
 */
export class InMemoryReplayRepository implements Partial<Public<ReplayRepository>> {
  replays = new Map<string, ReplayEntity>();
  conversations: ReplayConversationEntity[] = [];
  results: ReplayResultEntity[] = [];
  /** What the selection queries see: each conversation, who owns it and who may read it. */
  readable: { id: string; ownerId: string; readers: string[]; createdAt: Date }[] = [];
  private nextResultId = 1;

  async create(replay: NewReplay): Promise<ReplayEntity> {
    const now = new Date();
    const row: ReplayEntity = {
      ...replay,
      progress: null,
      summary: null,
      errorCode: null,
      errorDetail: null,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      completedAt: null,
    };
    this.replays.set(row.id, row);
    return structuredClone(row);
  }

  async findById(id: string): Promise<ReplayEntity | null> {
    const row = this.replays.get(id);
    return row ? structuredClone(row) : null;
  }

  async findByIdempotencyKey(createdBy: string, key: string): Promise<ReplayEntity | null> {
    const row = [...this.replays.values()].find((r) => r.createdBy === createdBy && r.idempotencyKey === key);
    return row ? structuredClone(row) : null;
  }

  async readableIds(filter: { readerId: string; ownerId?: string }): Promise<string[]> {
    return this.readableBy(filter).map((c) => c.id);
  }

  async readableAmong(readerId: string, ids: readonly string[]): Promise<string[]> {
    return this.readable.filter((c) => ids.includes(c.id) && c.readers.includes(readerId)).map((c) => c.id);
  }

  async enqueueConversations(replayId: string, ids: readonly string[]): Promise<void> {
    ids.forEach((conversationId, index) =>
      this.conversations.push({
        replayId,
        seq: index + 1,
        conversationId,
        status: 'pending',
        turns: 0,
        errorCode: null,
        errorDetail: null,
        startedAt: null,
        completedAt: null,
      }),
    );
  }

  async listConversations(replayId: string, afterSeq: number, limit: number): Promise<ReplayConversationEntity[]> {
    return this.conversations
      .filter((c) => c.replayId === replayId && c.seq > afterSeq)
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit)
      .map((c) => ({ ...c }));
  }

  async conversationCounts(replayId: string): Promise<ReplayConversationCounts> {
    const counts: ReplayConversationCounts = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const c of this.conversations) if (c.replayId === replayId) counts[c.status] += 1;
    return counts;
  }

  async markStarted(id: string): Promise<void> {
    const row = this.replays.get(id);
    if (row?.status === 'queued') Object.assign(row, { status: 'running', startedAt: new Date() });
  }

  async setRunningState(id: string, status: 'running' | 'paused', progress: ReplayEntity['progress']): Promise<void> {
    const row = this.replays.get(id);
    if (row && ['queued', 'running', 'paused'].includes(row.status)) Object.assign(row, { status, progress });
  }

  async finish(
    id: string,
    outcome: Pick<ReplayEntity, 'progress' | 'summary'> & {
      status: 'completed' | 'failed' | 'cancelled';
      error?: { code: string; detail: string };
    },
  ): Promise<boolean> {
    const row = this.replays.get(id);
    if (!row || !['queued', 'running', 'paused'].includes(row.status)) return false;
    Object.assign(row, {
      status: outcome.status,
      progress: outcome.progress,
      summary: outcome.summary,
      errorCode: outcome.error?.code ?? null,
      errorDetail: outcome.error?.detail ?? null,
      completedAt: new Date(),
    });
    return true;
  }

  async markConversationRunning(replayId: string, conversationId: string): Promise<void> {
    const row = this.conversation(replayId, conversationId);
    if (row && (row.status === 'pending' || row.status === 'running')) {
      Object.assign(row, { status: 'running', startedAt: row.startedAt ?? new Date() });
    }
  }

  async finishConversation(
    replayId: string,
    conversationId: string,
    outcome: { status: ReplayConversationStatus; turns: number; error?: { code: string; detail: string } },
  ): Promise<void> {
    const row = this.conversation(replayId, conversationId);
    if (row) {
      Object.assign(row, {
        status: outcome.status,
        turns: outcome.turns,
        errorCode: outcome.error?.code ?? null,
        errorDetail: outcome.error?.detail ?? null,
        completedAt: new Date(),
      });
    }
  }

  async cancelUnfinished(replayId: string): Promise<void> {
    for (const row of this.conversations) {
      if (row.replayId === replayId && (row.status === 'pending' || row.status === 'running')) row.status = 'cancelled';
    }
  }

  async insertResult(row: NewReplayResult): Promise<boolean> {
    if (this.find(row.replayId, row.conversationId, row.turnIndex, row.armIndex)) return false;
    this.results.push({ ...structuredClone(row), id: String(this.nextResultId++), createdAt: new Date() });
    return true;
  }

  async findResult(
    replayId: string,
    conversationId: string,
    turnIndex: number,
    armIndex: number,
  ): Promise<ReplayResultEntity | null> {
    const row = this.find(replayId, conversationId, turnIndex, armIndex);
    return row ? structuredClone(row) : null;
  }

  async armAnswers(
    replayId: string,
    conversationId: string,
    armIndex: number,
    beforeTurn: number,
  ): Promise<Pick<ReplayResultEntity, 'turnIndex' | 'status' | 'content'>[]> {
    return this.results
      .filter(
        (r) =>
          r.replayId === replayId &&
          r.conversationId === conversationId &&
          r.armIndex === armIndex &&
          r.turnIndex < beforeTurn,
      )
      .sort((a, b) => a.turnIndex - b.turnIndex)
      .map(({ turnIndex, status, content }) => ({ turnIndex, status, content }));
  }

  async recordVerdict(id: string, verdict: ReplayVerdict, bucket: ReplayBucket): Promise<boolean> {
    const row = this.results.find((r) => r.id === id);
    if (!row || row.verdict) return false;
    Object.assign(row, { verdict, bucket });
    return true;
  }

  async summaryRows(replayId: string, afterId: string | undefined, limit: number) {
    return this.results
      .filter((r) => r.replayId === replayId && (afterId === undefined || Number(r.id) > Number(afterId)))
      .slice(0, limit)
      .map((r) => structuredClone(r));
  }

  async failedConversations(replayId: string): Promise<ReplayConversationEntity[]> {
    return this.conversations.filter((c) => c.replayId === replayId && c.status === 'failed');
  }

  async resultTotals(replayId: string) {
    const rows = this.results.filter((r) => r.replayId === replayId);
    return {
      done: rows.filter((r) => r.status === 'complete').length,
      failed: rows.filter((r) => r.status === 'failed').length,
      prompt: rows.reduce((sum, r) => sum + (r.metrics.promptTokens ?? 0), 0),
      completion: rows.reduce((sum, r) => sum + (r.metrics.completionTokens ?? 0), 0),
    };
  }

  private readableBy(filter: { readerId: string; ownerId?: string }) {
    return this.readable
      .filter((c) => c.readers.includes(filter.readerId) && (!filter.ownerId || c.ownerId === filter.ownerId))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  private conversation(replayId: string, conversationId: string) {
    return this.conversations.find((c) => c.replayId === replayId && c.conversationId === conversationId);
  }

  private find(replayId: string, conversationId: string, turnIndex: number, armIndex: number) {
    return this.results.find(
      (r) =>
        r.replayId === replayId &&
        r.conversationId === conversationId &&
        r.turnIndex === turnIndex &&
        r.armIndex === armIndex,
    );
  }
}

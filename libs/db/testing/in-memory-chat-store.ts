import { QueryFailedError } from 'typeorm';
import type { TurnStep } from '#libs/contracts/chat-turn.contract';
import type { Database, Repositories } from '#libs/db/database';
import type { NewAuditRow } from '#libs/db/repositories/audit-log.repository';
import type { ConversationEntity } from '#libs/db/entities/conversation.entity';
import type { MessageEntity } from '#libs/db/entities/message.entity';
import type { TurnEntity } from '#libs/db/entities/turn.entity';
import { InMemoryReplayRepository } from './in-memory-replay.repository';

/**
 * For unit specs: the conversations, messages, turns, files and audit rows of the chat path held in memory, behind the
 * same repository methods the chat activities and the turns service call (only those). A transaction runs its work
 * on a copy and keeps it only when the work succeeds, as a database would.
 */
export class InMemoryChatStore {
  conversations = new Map<string, ConversationEntity>();
  messages = new Map<string, MessageEntity>();
  turns = new Map<string, TurnEntity>();
  readyFiles = new Map<string, string[]>();
  ownedFiles = new Map<string, string[]>();
  audit: NewAuditRow[] = [];
  /** The replay tables (replays read conversations and messages from this store, and write only these). */
  replays = new InMemoryReplayRepository();

  addConversation(fields: Partial<ConversationEntity> & { id: string; ownerId: string }): ConversationEntity {
    const now = new Date();
    const row: ConversationEntity = {
      title: 'New conversation',
      model: null,
      systemPrompt: null,
      tools: null,
      currentMessageId: null,
      archivedAt: null,
      createdAt: now,
      updatedAt: now,
      ...fields,
    };
    this.conversations.set(row.id, row);
    return row;
  }

  addMessage(fields: Partial<MessageEntity> & { id: string; conversationId: string; content: string }): MessageEntity {
    const row: MessageEntity = {
      parentId: null,
      role: 'user',
      status: 'complete',
      model: null,
      turnId: null,
      citations: null,
      usage: null,
      createdAt: new Date(),
      ...fields,
    };
    this.messages.set(row.id, row);
    return row;
  }

  /** The store as the `Database` port (only the methods the chat path uses are there). */
  database(): Database {
    return { ...this.repositories(), transaction: (work) => this.transaction(work), ping: async () => undefined };
  }

  private async transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    const saved = this.snapshot();
    try {
      return await work(this.repositories());
    } catch (error) {
      this.restore(saved);
      throw error;
    }
  }

  private snapshot() {
    const copy = <K, V>(map: Map<K, V>) => new Map([...map].map(([k, v]) => [k, structuredClone(v)]));
    return {
      conversations: copy(this.conversations),
      messages: copy(this.messages),
      turns: copy(this.turns),
      audit: [...this.audit],
    };
  }

  private restore(saved: ReturnType<InMemoryChatStore['snapshot']>): void {
    Object.assign(this, saved);
  }

  private repositories(): Repositories {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the fakes below read the live maps
    const store = this;
    const conversations = {
      findById: async (id: string) => clone(store.conversations.get(id)),
      showMessage: async (id: string, messageId: string, title?: string) => {
        const row = store.conversations.get(id);
        if (row) Object.assign(row, { currentMessageId: messageId, ...(title !== undefined ? { title } : {}) });
      },
      followBranch: async (id: string, from: string, to: string) => {
        const row = store.conversations.get(id);
        if (row && row.currentMessageId === from) row.currentMessageId = to;
      },
    };
    const messages = {
      findById: async (id: string) => clone(store.messages.get(id)),
      findInConversation: async (id: string, conversationId: string, role?: string) => {
        const row = store.messages.get(id);
        return row && row.conversationId === conversationId && (!role || row.role === role) ? clone(row) : null;
      },
      existsInConversation: async (id: string, conversationId: string) =>
        store.messages.get(id)?.conversationId === conversationId,
      contentOf: async (id: string, conversationId: string) => {
        const row = store.messages.get(id);
        return row?.conversationId === conversationId ? row.content : undefined;
      },
      insert: async (row: MessageEntity) => {
        if (store.messages.has(row.id)) throw new Error(`duplicate message ${row.id}`);
        store.messages.set(row.id, { ...row });
      },
      insertIfAbsent: async (row: Partial<MessageEntity> & { id: string }) => {
        if (store.messages.has(row.id)) return false;
        store.addMessage({ conversationId: '', content: '', ...row });
        return true;
      },
      replaceCancelled: async (id: string, answer: Partial<MessageEntity>) => {
        const row = store.messages.get(id);
        if (!row || row.status !== 'cancelled') return false;
        Object.assign(row, answer, { status: 'complete' });
        return true;
      },
      loadBranch: async (conversationId: string, leafId: string) => {
        const path: MessageEntity[] = [];
        let at = store.messages.get(leafId);
        if (at?.conversationId !== conversationId) return [];
        while (at) {
          path.unshift({ ...at });
          at = at.parentId ? store.messages.get(at.parentId) : undefined;
        }
        return path;
      },
    };
    const turns = {
      findById: async (id: string) => clone(store.turns.get(id)),
      findByIds: async (ids: readonly string[]) =>
        ids.flatMap((id) => (store.turns.has(id) ? [structuredClone(store.turns.get(id)!)] : [])),
      findByIdempotencyKey: async (userId: string, key: string) =>
        clone([...store.turns.values()].find((t) => t.userId === userId && t.idempotencyKey === key)),
      insert: async (turn: TurnEntity) => {
        if (
          [...store.turns.values()].some(
            (t) => t.userId === turn.userId && turn.idempotencyKey !== null && t.idempotencyKey === turn.idempotencyKey,
          )
        ) {
          throw new QueryFailedError(
            'INSERT INTO turns',
            [],
            Object.assign(new Error('Duplicate entry'), { code: 'ER_DUP_ENTRY' }),
          );
        }
        store.turns.set(turn.id, { ...turn });
      },
      markRunning: async (id: string) => {
        const row = store.turns.get(id);
        if (row?.status === 'queued') row.status = 'running';
      },
      markCompleted: async (id: string, outcome: { steps: TurnStep[]; model: string }) =>
        update(store.turns.get(id), { status: 'completed', ...outcome, completedAt: new Date() }),
      markFailed: async (id: string, outcome: { code: string; detail: string; steps: TurnStep[] }) =>
        update(store.turns.get(id), {
          status: 'failed',
          errorCode: outcome.code,
          errorDetail: outcome.detail,
          steps: outcome.steps,
          completedAt: new Date(),
        }),
      markCancelled: async (id: string, steps: TurnStep[]) =>
        update(store.turns.get(id), { status: 'cancelled', steps, completedAt: new Date() }),
    };
    const files = {
      hasReadyFiles: async (userId: string, fileIds: readonly string[] = []) =>
        (store.readyFiles.get(userId) ?? []).some((id) => fileIds.length === 0 || fileIds.includes(id)),
      countOwned: async (userId: string, fileIds: readonly string[]) =>
        fileIds.filter((id) => (store.ownedFiles.get(userId) ?? []).includes(id)).length,
    };
    const audit = {
      append: async (row: NewAuditRow) => {
        store.audit.push(row);
      },
      exists: async (action: string, targetType: string, targetId: string) =>
        store.audit.some((r) => r.action === action && r.targetType === targetType && r.targetId === targetId),
    };
    return { conversations, messages, turns, files, audit, replays: store.replays } as unknown as Repositories;
  }
}

function clone<T>(value: T | undefined): T | null {
  return value === undefined ? null : structuredClone(value);
}

function update<T extends object>(row: T | undefined, fields: Partial<T>): void {
  if (row) Object.assign(row, fields);
}

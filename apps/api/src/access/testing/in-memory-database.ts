import type { Database, Repositories } from '#libs/db/database';
import type { AuditLogEntity } from '#libs/db/entities/audit-log.entity';
import type { ConversationShareEntity, SharePermission } from '#libs/db/entities/conversation-share.entity';
import type { ConversationEntity } from '#libs/db/entities/conversation.entity';
import type { MessageEntity } from '#libs/db/entities/message.entity';
import type { AuditLogFilter, AuditLogRepository, NewAuditRow } from '#libs/db/repositories/audit-log.repository';
import type {
  ConversationChanges,
  ConversationListFilter,
  ConversationRepository,
  NewConversation,
  NewShare,
  Sharee,
  ShareWithSharee,
} from '#libs/db/repositories/conversation.repository';
import type { MessageRepository } from '#libs/db/repositories/message.repository';
import type { Principal } from '../../auth/principal';
import { InMemoryMessageRepository } from './in-memory-message.repository';
import { byActivity, isAfter, MemoryStore, type SomeOf, type State } from './in-memory-store';

/**
 * TEST ONLY: the conversations' side of the Database in memory, for the unit specs of the services of this slice. It
 * keeps what MySQL would (creation and update times from a clock that moves on by a millisecond per write, so the
 * order of rows is deterministic), refuses a row lock outside a transaction as TypeORM does, and rolls a transaction
 * back when its work throws. The repositories no spec here needs throw when touched.
 */

class InMemoryConversationRepository implements SomeOf<ConversationRepository> {
  constructor(
    private readonly store: MemoryStore,
    private readonly inTransaction: boolean,
  ) {}

  async findById(id: string, options: { lock?: boolean } = {}): Promise<ConversationEntity | null> {
    if (options.lock && !this.inTransaction) throw new Error('A row lock needs a transaction');
    const row = this.store.state.conversations.find((c) => c.id === id);
    return row ? { ...row } : null;
  }

  async create(conversation: NewConversation): Promise<ConversationEntity> {
    const now = this.store.now();
    this.store.state.conversations.push({ ...conversation, createdAt: now, updatedAt: now });
    return (await this.findById(conversation.id))!;
  }

  async update(id: string, changes: ConversationChanges): Promise<ConversationEntity> {
    const row = this.store.state.conversations.find((c) => c.id === id);
    if (!row) throw new Error(`No conversation ${id}`);
    Object.assign(row, changes, { updatedAt: this.store.now() });
    return { ...row };
  }

  async delete(id: string): Promise<void> {
    const { state } = this.store;
    const messageIds = new Set(state.messages.filter((m) => m.conversationId === id).map((m) => m.id));
    state.conversations = state.conversations.filter((c) => c.id !== id);
    state.shares = state.shares.filter((s) => s.conversationId !== id);
    state.messages = state.messages.filter((m) => m.conversationId !== id);
    state.feedback = state.feedback.filter((f) => !messageIds.has(f.messageId));
  }

  async listForUser(userId: string, filter: ConversationListFilter, limit: number): Promise<ConversationEntity[]> {
    const { state } = this.store;
    const part = filter.titlePart?.toLowerCase();
    return state.conversations
      .filter(
        (c) =>
          (c.ownerId === userId || state.shares.some((s) => s.conversationId === c.id && s.userId === userId)) &&
          (c.archivedAt !== null) === filter.archived &&
          (part === undefined || c.title.toLowerCase().includes(part)) &&
          (filter.after === undefined || isAfter(filter.after.at, filter.after.id, { at: c.updatedAt, id: c.id })),
      )
      .sort((a, b) => byActivity(b, a))
      .slice(0, limit)
      .map((c) => ({ ...c }));
  }

  async findShare(conversationId: string, userId: string): Promise<ConversationShareEntity | null> {
    const share = this.store.state.shares.find((s) => s.conversationId === conversationId && s.userId === userId);
    return share ? { ...share } : null;
  }

  async sharesOf(userId: string, conversationIds: readonly string[]): Promise<ConversationShareEntity[]> {
    return this.store.state.shares
      .filter((s) => s.userId === userId && conversationIds.includes(s.conversationId))
      .map((s) => ({ ...s }));
  }

  async saveShare(share: NewShare): Promise<ConversationShareEntity> {
    const existing = this.store.state.shares.find(
      (s) => s.conversationId === share.conversationId && s.userId === share.userId,
    );
    if (existing) existing.permission = share.permission;
    else this.store.state.shares.push({ ...share, createdAt: this.store.now() });
    return (await this.findShare(share.conversationId, share.userId))!;
  }

  async listShares(conversationId: string): Promise<ShareWithSharee[]> {
    return this.store.state.shares
      .filter((s) => s.conversationId === conversationId)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.userId < b.userId ? -1 : 1))
      .map((share) => ({ share: { ...share }, sharee: this.store.state.users.find((u) => u.id === share.userId)! }));
  }

  async deleteShare(conversationId: string, userId: string): Promise<void> {
    this.store.state.shares = this.store.state.shares.filter(
      (s) => !(s.conversationId === conversationId && s.userId === userId),
    );
  }

  async findSharee(email: string): Promise<Sharee | null> {
    return this.store.state.users.find((u) => u.email === email) ?? null;
  }
}

class InMemoryAuditLogRepository implements SomeOf<AuditLogRepository> {
  constructor(private readonly store: MemoryStore) {}

  async append(row: NewAuditRow): Promise<void> {
    const id = String(this.store.state.audit.length + 1);
    this.store.state.audit.push({ ...row, id, createdAt: this.store.now() });
  }

  async exists(action: string, targetType: string, targetId: string): Promise<boolean> {
    return this.store.state.audit.some(
      (a) => a.action === action && a.targetType === targetType && a.targetId === targetId,
    );
  }

  async list(filter: AuditLogFilter, limit: number): Promise<AuditLogEntity[]> {
    return this.store.state.audit
      .filter(
        (a) =>
          (filter.action === undefined || a.action === filter.action) &&
          (filter.actorId === undefined || a.actorId === filter.actorId),
      )
      .reverse()
      .slice(0, limit);
  }
}

/** A repository no spec of this slice uses: touching it fails the spec with a clear message. */
function unused<T>(name: string): T {
  return new Proxy(
    {},
    {
      get: (_, property) => {
        throw new Error(`The in-memory database has no ${name} repository (asked for ${String(property)})`);
      },
    },
  ) as T;
}

function repositoriesOf(store: MemoryStore, inTransaction: boolean): Repositories {
  // The fakes provide every public method; the casts drop the real classes' private EntityManager from the type.
  return {
    conversations: new InMemoryConversationRepository(store, inTransaction) as unknown as ConversationRepository,
    messages: new InMemoryMessageRepository(store) as unknown as MessageRepository,
    audit: new InMemoryAuditLogRepository(store) as unknown as AuditLogRepository,
    users: unused('users'),
    invitations: unused('invitations'),
    sessions: unused('sessions'),
    apiTokens: unused('apiTokens'),
    turns: unused('turns'),
    files: unused('files'),
    replays: unused('replays'),
    mcpServers: unused('mcpServers'),
  };
}

/** The in-memory Database and what specs need to arrange and inspect it. */
export interface InMemoryDatabase {
  db: Database;
  /** Every row, as stored (inspect, do not change). */
  state(): Readonly<State>;
  addUser(name: string): Principal & Sharee;
  addConversation(owner: Principal, fields?: Partial<ConversationEntity>): ConversationEntity;
  /** A message appended to the conversation (its current message moves to it unless `keepCurrent`). */
  addMessage(
    conversation: ConversationEntity,
    fields: Partial<MessageEntity> & Pick<MessageEntity, 'role' | 'content'>,
    options?: { keepCurrent?: boolean },
  ): MessageEntity;
  share(conversation: ConversationEntity, user: Principal, permission: SharePermission): void;
}

export function createInMemoryDatabase(): InMemoryDatabase {
  const store = new MemoryStore();
  const db: Database = {
    ...repositoriesOf(store, false),
    transaction: async (work) => {
      const before = structuredClone(store.state);
      try {
        return await work(repositoriesOf(store, true));
      } catch (error) {
        store.state = before;
        throw error;
      }
    },
    ping: async () => {},
  };
  let ids = 0;
  // Ascending, UUID-shaped ids: the order they are handed out is their sort order, like the services' own.
  const nextId = (): string => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`;
  return {
    db,
    state: () => store.state,
    addUser: (name) => {
      const user = { id: nextId(), email: `${name}@example.com`, displayName: name };
      store.state.users.push(user);
      return { ...user, userId: user.id, sessionId: nextId(), role: 'user', scopes: [], kind: 'session' };
    },
    addConversation: (owner, fields = {}) => {
      const now = store.now();
      const conversation: ConversationEntity = {
        id: nextId(),
        ownerId: owner.userId,
        title: 'A conversation',
        model: null,
        systemPrompt: null,
        tools: null,
        currentMessageId: null,
        archivedAt: null,
        createdAt: now,
        updatedAt: now,
        ...fields,
      };
      store.state.conversations.push(conversation);
      return { ...conversation };
    },
    addMessage: (conversation, fields, options = {}) => {
      const stored = store.state.conversations.find((c) => c.id === conversation.id)!;
      const message: MessageEntity = {
        id: nextId(),
        conversationId: conversation.id,
        parentId: stored.currentMessageId,
        status: 'complete',
        model: null,
        turnId: null,
        citations: [],
        usage: null,
        createdAt: store.now(),
        ...fields,
      };
      store.state.messages.push(message);
      if (!options.keepCurrent) stored.currentMessageId = message.id;
      return { ...message };
    },
    share: (conversation, user, permission) => {
      store.state.shares.push({
        conversationId: conversation.id,
        userId: user.userId,
        permission,
        createdBy: conversation.ownerId,
        createdAt: store.now(),
      });
    },
  };
}

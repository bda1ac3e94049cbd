import type { Database, Repositories } from '#libs/db/database';
import type { AuditLogEntity } from '#libs/db/entities/audit-log.entity';
import type { ConversationShareEntity, SharePermission } from '#libs/db/entities/conversation-share.entity';
import type { ConversationEntity } from '#libs/db/entities/conversation.entity';
import type { MessageFeedbackEntity } from '#libs/db/entities/message-feedback.entity';
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
import type { KeysetPosition } from '#libs/db/repositories/keyset-position';
import type {
  MessageRepository,
  MessageSearchRow,
  NewFeedback,
  NewMessage,
} from '#libs/db/repositories/message.repository';
import type { Principal } from '../../auth/principal';

/**
 * TEST ONLY: the conversations' side of the Database in memory, for the unit specs of the services of this slice. It
 * keeps what MySQL would (creation and update times from a clock that moves on by a millisecond per write, so the
 * order of rows is deterministic), refuses a row lock outside a transaction as TypeORM does, and rolls a transaction
 * back when its work throws. The repositories no spec here needs throw when touched.
 */

/**
 * Some of a repository's public methods, with their real signatures: a fake holds those this slice's services call
 * (the real class also holds its EntityManager, and methods of the chat path these specs never reach).
 */
type SomeOf<T> = Partial<{ [K in keyof T]: T[K] }>;

interface State {
  users: Sharee[];
  conversations: ConversationEntity[];
  shares: ConversationShareEntity[];
  messages: MessageEntity[];
  feedback: MessageFeedbackEntity[];
  audit: AuditLogEntity[];
}

class MemoryStore {
  state: State = { users: [], conversations: [], shares: [], messages: [], feedback: [], audit: [] };
  private clock = Date.parse('2030-01-01T00:00:00.000Z');

  now(): Date {
    this.clock += 1;
    return new Date(this.clock);
  }
}

const byTimeAndId =
  (time: (row: { createdAt: Date; updatedAt?: Date }) => Date) =>
  <T extends { id: string; createdAt: Date; updatedAt?: Date }>(a: T, b: T): number =>
    time(a).getTime() - time(b).getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const byCreation = byTimeAndId((row) => row.createdAt);
const byActivity = byTimeAndId((row) => row.updatedAt ?? row.createdAt);

/** Strictly after `position` in ascending (creation or activity) order. */
function isAfter(at: Date, id: string, position: KeysetPosition): boolean {
  return at.getTime() > position.at.getTime() || (at.getTime() === position.at.getTime() && id > position.id);
}

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

class InMemoryMessageRepository implements SomeOf<MessageRepository> {
  constructor(private readonly store: MemoryStore) {}

  async findById(id: string): Promise<MessageEntity | null> {
    const message = this.store.state.messages.find((m) => m.id === id);
    return message ? { ...message } : null;
  }

  async findInConversation(id: string, conversationId: string): Promise<MessageEntity | null> {
    const message = await this.findById(id);
    return message?.conversationId === conversationId ? message : null;
  }

  async existsInConversation(id: string, conversationId: string): Promise<boolean> {
    return (await this.findInConversation(id, conversationId)) !== null;
  }

  async loadBranch(conversationId: string, leafId: string): Promise<MessageEntity[]> {
    const branch: MessageEntity[] = [];
    let at = await this.findInConversation(leafId, conversationId);
    while (at) {
      branch.unshift(at);
      at = at.parentId === null ? null : await this.findInConversation(at.parentId, conversationId);
    }
    return branch;
  }

  async listAll(conversationId: string): Promise<MessageEntity[]> {
    return this.store.state.messages
      .filter((m) => m.conversationId === conversationId)
      .sort(byCreation)
      .map((m) => ({ ...m }));
  }

  async listPage(conversationId: string, after: KeysetPosition | undefined, limit: number): Promise<MessageEntity[]> {
    const all = await this.listAll(conversationId);
    return all.filter((m) => after === undefined || isAfter(m.createdAt, m.id, after)).slice(0, limit);
  }

  async insertMany(messages: readonly NewMessage[]): Promise<void> {
    for (const message of messages) {
      if (this.store.state.messages.some((m) => m.id === message.id))
        throw new Error(`Duplicate message ${message.id}`);
      this.store.state.messages.push({ ...message, createdAt: message.createdAt ?? this.store.now() });
    }
  }

  /** `+word` must occur as a word, `+word*` as the start of one (the boolean-mode subset the service produces). */
  async searchReadableBy(
    userId: string,
    booleanQuery: string,
    before: KeysetPosition | undefined,
    limit: number,
  ): Promise<MessageSearchRow[]> {
    const { state } = this.store;
    const required = booleanQuery.split(' ').map((term) => ({
      word: term.replace(/^\+/, '').replace(/\*$/, ''),
      prefix: term.endsWith('*'),
    }));
    const readable = (conversation: ConversationEntity): boolean =>
      conversation.ownerId === userId ||
      state.shares.some((s) => s.conversationId === conversation.id && s.userId === userId);
    return state.messages
      .filter((m) => {
        const words = m.content.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
        return required.every(({ word, prefix }) => words.some((w) => (prefix ? w.startsWith(word) : w === word)));
      })
      .flatMap((m) => {
        const conversation = state.conversations.find((c) => c.id === m.conversationId);
        return conversation && readable(conversation) ? [{ m, conversation }] : [];
      })
      .filter(({ m }) => before === undefined || isAfter(before.at, before.id, { at: m.createdAt, id: m.id }))
      .sort((a, b) => byCreation(b.m, a.m))
      .slice(0, limit)
      .map(({ m, conversation }) => ({
        id: m.id,
        conversationId: m.conversationId,
        conversationTitle: conversation.title,
        role: m.role,
        content: m.content,
        createdAt: m.createdAt,
      }));
  }

  async feedbackOf(userId: string, messageIds: readonly string[]): Promise<MessageFeedbackEntity[]> {
    return this.store.state.feedback
      .filter((f) => f.userId === userId && messageIds.includes(f.messageId))
      .map((f) => ({ ...f }));
  }

  async saveFeedback(feedback: NewFeedback): Promise<{ created: boolean; feedback: MessageFeedbackEntity }> {
    const existing = this.store.state.feedback.find(
      (f) => f.messageId === feedback.messageId && f.userId === feedback.userId,
    );
    const now = this.store.now();
    if (existing) {
      // As MySQL's ON DUPLICATE KEY UPDATE: the update time moves only when something changed.
      const changed = existing.rating !== feedback.rating || existing.comment !== feedback.comment;
      Object.assign(
        existing,
        { rating: feedback.rating, comment: feedback.comment },
        changed ? { updatedAt: now } : {},
      );
      return { created: false, feedback: { ...existing } };
    }
    const row = { ...feedback, createdAt: now, updatedAt: now };
    this.store.state.feedback.push(row);
    return { created: true, feedback: { ...row } };
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

import { AuditWriter } from '#libs/audit/audit-writer';
import type { Database, Repositories } from '#libs/db/database';
import type { ConversationEntity } from '#libs/db/entities/conversation.entity';
import type { UserEntity } from '#libs/db/entities/user.entity';
import type { ConversationRepository } from '#libs/db/repositories/conversation.repository';
import type { UserRepository } from '#libs/db/repositories/user.repository';
import { InMemoryAuditLogRepository } from '#libs/db/testing/in-memory-audit-log.repository';
import { InMemoryFileRepository } from '#libs/db/testing/in-memory-file.repository';
import { createLogger } from '#libs/logging/logger';
import type { ChunkStore } from '#libs/retrieval/chunk-store';
import { InMemoryObjectStore } from '#libs/storage/testing/in-memory-object-store';

export const silentLogger = createLogger({ level: 'silent', name: 'maintenance-spec' });

type Conversation = Pick<ConversationEntity, 'id' | 'ownerId' | 'updatedAt'>;
type User = Pick<UserEntity, 'id' | 'role' | 'disabled'>;

/**
 * For the maintenance activities' unit specs: files, conversations and users in memory behind the repository methods
 * the activities call (checked against the real signatures), the audit log, the object store and the chunks each file
 * still has. A transaction's work is undone when it throws, as a database would.
 */
export function maintenanceKit() {
  const files = new InMemoryFileRepository();
  const conversations = new Map<string, Conversation>();
  const users = new Map<string, User>();
  const auditLog = new InMemoryAuditLogRepository();
  const store = new InMemoryObjectStore();
  /** File id → chunk count, as the chunk store would hold them. */
  const chunkCounts = new Map<string, number>();

  const conversationRepository: Pick<
    ConversationRepository,
    'findById' | 'delete' | 'idsInactiveSince' | 'idsOwnedBy'
  > = {
    findById: async (id) => (conversations.get(id) as ConversationEntity | undefined) ?? null,
    delete: async (id) => {
      conversations.delete(id);
    },
    idsInactiveSince: async (cutoff, limit) =>
      [...conversations.values()]
        .filter((c) => c.updatedAt < cutoff)
        .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime())
        .slice(0, limit)
        .map((c) => c.id),
    idsOwnedBy: async (ownerId, limit) =>
      [...conversations.values()]
        .filter((c) => c.ownerId === ownerId)
        .slice(0, limit)
        .map((c) => c.id),
  };
  const userRepository: Pick<UserRepository, 'findById' | 'findStanding' | 'remove'> = {
    findById: async (id) => (users.get(id) as UserEntity | undefined) ?? null,
    findStanding: async (id) => users.get(id) ?? null,
    remove: async (id) => users.delete(id),
  };
  const repositories = {
    files,
    conversations: conversationRepository,
    users: userRepository,
    audit: auditLog,
  } as unknown as Repositories;
  const db: Database = {
    ...repositories,
    transaction: async (work) => {
      const saved = {
        files: new Map(files.rows),
        conversations: new Map(conversations),
        users: new Map(users),
        audit: [...auditLog.rows],
      };
      try {
        return await work(repositories);
      } catch (error) {
        const refill = <V>(map: Map<string, V>, from: Map<string, V>) => {
          map.clear();
          for (const [k, v] of from) map.set(k, v);
        };
        refill(files.rows, saved.files);
        refill(conversations, saved.conversations);
        refill(users, saved.users);
        auditLog.rows.splice(0, auditLog.rows.length, ...saved.audit);
        throw error;
      }
    },
    ping: async () => undefined,
  };
  const chunks = {
    deleteFileChunks: async (fileId: string) => {
      const had = chunkCounts.get(fileId) ?? 0;
      chunkCounts.delete(fileId);
      return had;
    },
  } as unknown as ChunkStore;

  return {
    db,
    files,
    conversations,
    users,
    store,
    chunkCounts,
    audit: new AuditWriter(db),
    auditRows: auditLog.rows,
    chunks,
  };
}

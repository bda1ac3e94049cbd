import type { DataSource, EntityManager } from 'typeorm';
import { ApiTokenRepository } from './repositories/api-token.repository';
import { AuditLogRepository } from './repositories/audit-log.repository';
import { ConversationRepository } from './repositories/conversation.repository';
import { FileRepository } from './repositories/file.repository';
import { InvitationRepository } from './repositories/invitation.repository';
import { McpServerRepository } from './repositories/mcp-server.repository';
import { MessageRepository } from './repositories/message.repository';
import { ReplayRepository } from './repositories/replay.repository';
import { SessionRepository } from './repositories/session.repository';
import { TurnRepository } from './repositories/turn.repository';
import { UserRepository } from './repositories/user.repository';

/**
 * Every repository, bound to one connection or transaction. Services and activities reach MySQL only through these:
 * one repository per aggregate owns its queries, so callers never see the ORM and unit specs can pass fakes.
 */
export interface Repositories {
  users: UserRepository;
  invitations: InvitationRepository;
  sessions: SessionRepository;
  apiTokens: ApiTokenRepository;
  conversations: ConversationRepository;
  messages: MessageRepository;
  turns: TurnRepository;
  files: FileRepository;
  audit: AuditLogRepository;
  replays: ReplayRepository;
  mcpServers: McpServerRepository;
}

export function repositoriesFor(manager: EntityManager): Repositories {
  return {
    users: new UserRepository(manager),
    invitations: new InvitationRepository(manager),
    sessions: new SessionRepository(manager),
    apiTokens: new ApiTokenRepository(manager),
    conversations: new ConversationRepository(manager),
    messages: new MessageRepository(manager),
    turns: new TurnRepository(manager),
    files: new FileRepository(manager),
    audit: new AuditLogRepository(manager),
    replays: new ReplayRepository(manager),
    mcpServers: new McpServerRepository(manager),
  };
}

/** The data-access port the API's services and the worker's activities are given. */
export interface Database extends Repositories {
  /** Runs `work` in one transaction, with repositories bound to it; rolled back when `work` throws. */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  /** A round trip to the server (readiness probes). */
  ping(): Promise<void>;
}

export function createDatabase(dataSource: DataSource): Database {
  return {
    ...repositoriesFor(dataSource.manager),
    transaction: (work) => dataSource.transaction((manager) => work(repositoriesFor(manager))),
    ping: async () => {
      await dataSource.query('SELECT 1');
    },
  };
}

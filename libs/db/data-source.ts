import { DataSource } from 'typeorm';
import { ApiTokenEntity } from './entities/api-token.entity';
import { McpServerEntity } from './entities/mcp-server.entity';
import { AuditLogEntity } from './entities/audit-log.entity';
import { ConversationShareEntity } from './entities/conversation-share.entity';
import { ConversationEntity } from './entities/conversation.entity';
import { FileChunkVectorEntity } from './entities/file-chunk-vector.entity';
import { FileChunkEntity } from './entities/file-chunk.entity';
import { FileEntity } from './entities/file.entity';
import { InvitationEntity } from './entities/invitation.entity';
import { MessageFeedbackEntity } from './entities/message-feedback.entity';
import { MessageEntity } from './entities/message.entity';
import { MfaRecoveryCodeEntity } from './entities/mfa-recovery-code.entity';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { ReplayConversationEntity } from './entities/replay-conversation.entity';
import { ReplayResultEntity } from './entities/replay-result.entity';
import { ReplayEntity } from './entities/replay.entity';
import { SessionEntity } from './entities/session.entity';
import { TurnEntity } from './entities/turn.entity';
import { UserEntity } from './entities/user.entity';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { RefreshTokenReuse1795627281276 } from './migrations/1795627281276-refresh-token-reuse';
import { ApiTokens1795650000000 } from './migrations/1795650000000-api-tokens';
import { TwoFactor1795660000000 } from './migrations/1795660000000-two-factor';
import { ConversationShares1795680000000 } from './migrations/1795680000000-conversation-shares';
import { Files1795700000000 } from './migrations/1795700000000-files';
import { TurnOptions1795705000000 } from './migrations/1795705000000-turn-options';
import { ConversationFeatures1795710000000 } from './migrations/1795710000000-conversation-features';
import { ChunkVectors1795720000000 } from './migrations/1795720000000-chunk-vectors';
import { Invitations1795800000000 } from './migrations/1795800000000-invitations';
import { Replays1795810000000 } from './migrations/1795810000000-replays';
import { EmbeddingCheckpoint1795820000000 } from './migrations/1795820000000-embedding-checkpoint';
import { SessionsRevokedIndex1795830000000 } from './migrations/1795830000000-sessions-revoked-index';
import { MessageToolCalls1795840000000 } from './migrations/1795840000000-message-tool-calls';
import { ConversationTools1795860000000 } from './migrations/1795860000000-conversation-tools';
import { McpServers1795850000000 } from './migrations/1795850000000-mcp-servers';
import { McpServerOAuth1795870000000 } from './migrations/1795870000000-mcp-server-oauth';

export const ENTITIES = [
  UserEntity,
  SessionEntity,
  RefreshTokenEntity,
  ConversationEntity,
  MessageEntity,
  TurnEntity,
  AuditLogEntity,
  ApiTokenEntity,
  McpServerEntity,
  MfaRecoveryCodeEntity,
  ConversationShareEntity,
  FileEntity,
  FileChunkEntity,
  FileChunkVectorEntity,
  MessageFeedbackEntity,
  InvitationEntity,
  ReplayEntity,
  ReplayConversationEntity,
  ReplayResultEntity,
];
export const MIGRATIONS = [
  InitialSchema1764000000000,
  RefreshTokenReuse1795627281276,
  ApiTokens1795650000000,
  TwoFactor1795660000000,
  ConversationShares1795680000000,
  Files1795700000000,
  TurnOptions1795705000000,
  ConversationFeatures1795710000000,
  ChunkVectors1795720000000,
  Invitations1795800000000,
  Replays1795810000000,
  EmbeddingCheckpoint1795820000000,
  SessionsRevokedIndex1795830000000,
  MessageToolCalls1795840000000,
  McpServers1795850000000,
  ConversationTools1795860000000,
  McpServerOAuth1795870000000,
];

export function createDataSource(url: string, poolSize = 10): DataSource {
  return new DataSource({
    type: 'mysql',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    poolSize,
    extra: { connectionLimit: poolSize },
    logging: false,
  });
}

/** Splits `mysql://…/name` into the server URL and the database name. */
export function splitDatabaseUrl(url: string): { serverUrl: string; database: string } {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  parsed.pathname = '/';
  return { serverUrl: parsed.toString(), database };
}

/** Creates the database when missing, then applies pending migrations. Never uses `synchronize`. */
export async function migrateDatabase(url: string): Promise<string[]> {
  const { serverUrl, database } = splitDatabaseUrl(url);
  if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`Invalid database name "${database}"`);
  const server = new DataSource({ type: 'mysql', url: serverUrl, logging: false });
  await server.initialize();
  try {
    await server.query(
      `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await server.destroy();
  }
  const dataSource = createDataSource(url, 1);
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}

/** A migration this build knows, and whether the database has it applied. */
export interface MigrationState {
  name: string;
  applied: boolean;
}

/**
 * Every migration of this build, oldest first, with whether it is applied; `unknown` lists applied ones it lacks (a
 * newer build ran here); `lastApplied` is the one a revert would undo.
 */
export async function listMigrations(
  url: string,
): Promise<{ migrations: MigrationState[]; unknown: string[]; lastApplied: string | null }> {
  const dataSource = createDataSource(url, 1);
  await dataSource.initialize();
  try {
    const inOrder = await appliedMigrationNames(dataSource);
    const applied = new Set(inOrder);
    const known = MIGRATIONS.map((migration) => new migration().name ?? migration.name);
    return {
      migrations: known.map((name) => ({ name, applied: applied.has(name) })),
      unknown: inOrder.filter((name) => !known.includes(name)),
      lastApplied: inOrder.at(-1) ?? null,
    };
  } finally {
    await dataSource.destroy();
  }
}

/** Reverts the most recently applied migration (its `down`, in a transaction); answers its name, or null if none. */
export async function revertLastMigration(url: string): Promise<string | null> {
  const dataSource = createDataSource(url, 1);
  await dataSource.initialize();
  try {
    const last = (await appliedMigrationNames(dataSource)).at(-1);
    if (!last) return null;
    await dataSource.undoLastMigration({ transaction: 'each' });
    return last;
  } finally {
    await dataSource.destroy();
  }
}

/** The applied migrations' names in the order they were applied, as TypeORM reverts them; none before the first migrate. */
async function appliedMigrationNames(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    if (!(await runner.hasTable('schema_migrations'))) return [];
    const rows = (await runner.query('SELECT name FROM schema_migrations ORDER BY id ASC')) as { name: string }[];
    return rows.map((row) => row.name);
  } finally {
    await runner.release();
  }
}

import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource, migrateDatabase, splitDatabaseUrl } from '#libs/db/data-source';
import type { FileStatus } from '#libs/db/entities/file.entity';

/** A migrated database of its own for one retrieval test or bench run; `drop()` removes it. */
export interface ScratchDatabase {
  url: string;
  db: DataSource;
  drop(): Promise<void>;
}

export async function createScratchDatabase(
  label: string,
  serverUrl = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306',
): Promise<ScratchDatabase> {
  const name = `gc_${label.replace(/[^A-Za-z0-9_]/g, '_')}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const url = `${serverUrl.replace(/\/+$/, '')}/${name}`;
  await migrateDatabase(url);
  const db = await createDataSource(url, 4).initialize();
  return {
    url,
    db,
    async drop() {
      const { database } = splitDatabaseUrl(url);
      try {
        await db.query(`DROP DATABASE IF EXISTS \`${database}\``);
      } finally {
        await db.destroy();
      }
    },
  };
}

/** Inserts a user row (files reference users) and returns its id. */
export async function insertUser(db: DataSource, label = 'user'): Promise<string> {
  const id = randomUUID();
  await db.query(`INSERT INTO users (id, email, display_name, password_hash) VALUES (?, ?, ?, 'x')`, [
    id,
    `${label}.${id.slice(0, 8)}@example.com`,
    label,
  ]);
  return id;
}

/** Inserts a file row as ingestion would leave it and returns its id. */
export async function insertFile(
  db: DataSource,
  userId: string,
  name: string,
  status: FileStatus = 'ready',
): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO files (id, user_id, name, kind, mime_type, storage_key, status) VALUES (?, ?, ?, 'md', 'text/markdown', ?, ?)`,
    [id, userId, name, `files/${userId}/${id}`, status],
  );
  return id;
}

export async function setFileStatus(db: DataSource, fileId: string, status: FileStatus): Promise<void> {
  await db.query('UPDATE files SET status = ? WHERE id = ?', [status, fileId]);
}

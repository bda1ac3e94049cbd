import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { IndexVersions } from './index-versions';
import { toBooleanQuery, toTwoTermsQuery } from './lexical-query';
import { encodeVector } from './vector-codec';

/** One retrievable passage, as search returns it. `score` is the ranker's own scale (FULLTEXT relevance here). */
export interface ChunkHit {
  chunkId: string;
  fileId: string;
  fileName: string;
  seq: number;
  heading: string | null;
  content: string;
  score: number;
}

export interface NewChunk {
  seq: number;
  heading?: string;
  content: string;
  tokens: number;
  /** Any length; stored as float32 little-endian as given (the vector index normalises on load). */
  embedding?: Float32Array;
}

export interface ReplaceFileChunksInput {
  fileId: string;
  userId: string;
  chunks: NewChunk[];
}

export interface LexicalSearchOptions {
  /** Only these files; an empty list matches nothing. */
  fileIds?: string[];
  limit: number;
}

/**
 * Rows per INSERT, and a byte budget per statement well under MariaDB's default 16 MiB `max_allowed_packet`. The rows
 * are a power of two: a batch is sent as statements of 512, 256, … rows (see `insertRows`).
 */
const INSERT_BATCH_ROWS = 512;
const INSERT_BATCH_BYTES = 4 * 1024 * 1024;
const HEADING_MAX_CHARS = 500;
const MAX_LIMIT = 1000;
/**
 * The isolation of every transaction that writes chunks. Under REPEATABLE READ a `DELETE … WHERE file_id = ? AND
 * user_id = ?` takes next-key locks (the planner may walk the whole user's index), and the inserts of another of the
 * user's files, ingested at the same time or deleted beside it, then deadlock against those gap locks. READ COMMITTED
 * locks only the rows a statement changes; each transaction touches one file's rows, so nothing it reads can change.
 */
const CHUNK_WRITES = 'READ COMMITTED';
/** `IN (…)` lists are split so a statement never carries thousands of parameters. */
const ID_LIST_BATCH = 1000;

interface HitRow {
  id: string;
  file_id: string;
  file_name: string;
  seq: number;
  heading: string | null;
  content: string;
  score: number | string | null;
}

/**
 * Users' file chunks in MySQL: written per file by ingestion, searched lexically through the FULLTEXT index and read
 * back by id for vector hits. Every read is scoped to the owner and to files whose status is `ready`.
 */
export class ChunkStore {
  constructor(
    private readonly db: DataSource,
    private readonly versions?: IndexVersions,
  ) {}

  /**
   * Replaces a file's chunks in one transaction and returns how many were written. Idempotent: chunk ids derive
   * from `fileId` and `seq`, so a retried ingestion writes the same rows.
   */
  async replaceFileChunks(input: ReplaceFileChunksInput): Promise<number> {
    const { fileId, userId, chunks } = input;
    for (const chunk of chunks) {
      if (!Number.isInteger(chunk.seq) || chunk.seq < 0) throw new Error(`Chunk seq must be a non-negative integer`);
    }
    await this.db.transaction(CHUNK_WRITES, async (manager) => {
      await deleteChunksOf(manager, fileId, userId);
      await insertInBatches(manager, fileId, userId, chunks);
      await insertVectors(
        manager,
        fileId,
        userId,
        chunks.flatMap((chunk) => (chunk.embedding ? [{ seq: chunk.seq, embedding: chunk.embedding }] : [])),
      );
    });
    await this.versions?.bump(userId);
    return chunks.length;
  }

  /**
   * Stores (or replaces) the vectors of some of a file's chunks, by `seq`, in multi-row statements. Idempotent, so an
   * embedding batch retried after a crash writes the same rows. Bump the user's version once the file is done.
   */
  async storeVectors(
    fileId: string,
    userId: string,
    vectors: { seq: number; embedding: Float32Array }[],
    options: { bumpVersion?: boolean } = {},
  ): Promise<void> {
    await this.db.transaction(CHUNK_WRITES, (manager) => insertVectors(manager, fileId, userId, vectors));
    if (options.bumpVersion) await this.versions?.bump(userId);
  }

  /** How many chunks the file has (after `afterSeq`, when given). */
  async countFileChunks(fileId: string, userId: string, afterSeq = -1): Promise<number> {
    const [{ n } = { n: 0 }]: { n: number | string }[] = await this.db.query(
      'SELECT COUNT(*) AS n FROM file_chunks WHERE file_id = ? AND user_id = ? AND seq > ?',
      [fileId, userId, afterSeq],
    );
    return Number(n);
  }

  /** The file's next `limit` chunks after `afterSeq`, in `seq` order: what the embedding step reads batch by batch. */
  async chunksAfter(
    fileId: string,
    userId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ seq: number; content: string }[]> {
    const rows: { seq: number | string; content: string }[] = await this.db.query(
      'SELECT seq, content FROM file_chunks WHERE file_id = ? AND user_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      [fileId, userId, afterSeq, Math.max(0, Math.floor(limit))],
    );
    return rows.map((row) => ({ seq: Number(row.seq), content: row.content }));
  }

  /**
   * The file's row was deleted and its chunks and vectors with it (ON DELETE CASCADE): tells the retrieval caches,
   * without a statement of its own.
   */
  async fileRemoved(_fileId: string, userId: string): Promise<void> {
    await this.versions?.bump(userId);
  }

  async deleteFileChunks(fileId: string, userId: string): Promise<number> {
    const deleted = await this.db.transaction(CHUNK_WRITES, (manager) => deleteChunksOf(manager, fileId, userId));
    await this.versions?.bump(userId);
    return deleted;
  }

  /**
   * FULLTEXT search over the user's ready files. The query is reduced to plain terms (no boolean operators survive)
   * ranked by InnoDB's relevance; a query with nothing searchable returns no hits. First only rows holding two of the
   * terms are ranked; when fewer than `limit` do, the terms are OR-ed (a small corpus, rare words, a one-word query).
   * At a million chunks that first phase is what keeps a query from reading and ranking every row with any of its
   * words.
   */
  async lexicalSearch(userId: string, query: string, options: LexicalSearchOptions): Promise<ChunkHit[]> {
    const anyTerm = toBooleanQuery(query);
    const limit = clampLimit(options.limit);
    if (anyTerm === null || limit === 0 || options.fileIds?.length === 0) return [];
    const twoTerms = toTwoTermsQuery(query);
    if (twoTerms !== null) {
      const hits = await this.rankedMatches(userId, twoTerms, limit, options.fileIds);
      if (hits.length >= limit) return hits;
    }
    return this.rankedMatches(userId, anyTerm, limit, options.fileIds);
  }

  private async rankedMatches(
    userId: string,
    against: string,
    limit: number,
    fileIds: string[] | undefined,
  ): Promise<ChunkHit[]> {
    const fileFilter = fileIds ? `AND c.file_id IN (${placeholders(fileIds.length)})` : '';
    // Rank in a derived table that carries no content, so the sort handles small rows; then read the winners' text.
    const rows: HitRow[] = await this.db.query(
      `SELECT c.id, c.file_id, f.name AS file_name, c.seq, c.heading, c.content, m.score
         FROM (
           SELECT c.id, MATCH(c.content) AGAINST (? IN BOOLEAN MODE) AS score
             FROM file_chunks c
             JOIN files f ON f.id = c.file_id
            WHERE c.user_id = ? AND f.user_id = ? AND f.status = 'ready'
              AND MATCH(c.content) AGAINST (? IN BOOLEAN MODE) ${fileFilter}
            ORDER BY score DESC, c.id
            LIMIT ?
         ) m
         JOIN file_chunks c ON c.id = m.id
         JOIN files f ON f.id = c.file_id
        ORDER BY m.score DESC, c.id`,
      [against, userId, userId, against, ...(fileIds ?? []), limit],
    );
    return rows.map(toHit);
  }

  /** The user's chunks with these ids that belong to ready files, in the order asked (missing ids are skipped). */
  async getChunks(ids: string[], userId: string): Promise<ChunkHit[]> {
    const unique = [...new Set(ids)];
    const found = new Map<string, ChunkHit>();
    for (let start = 0; start < unique.length; start += ID_LIST_BATCH) {
      const batch = unique.slice(start, start + ID_LIST_BATCH);
      const rows: HitRow[] = await this.db.query(
        `SELECT c.id, c.file_id, f.name AS file_name, c.seq, c.heading, c.content, 0 AS score
           FROM file_chunks c
           JOIN files f ON f.id = c.file_id
          WHERE c.id IN (${placeholders(batch.length)}) AND c.user_id = ? AND f.user_id = ? AND f.status = 'ready'`,
        [...batch, userId, userId],
      );
      for (const row of rows) found.set(row.id, toHit(row));
    }
    return unique.flatMap((id) => found.get(id) ?? []);
  }
}

/** A UUID-shaped id (version 8, RFC 9562 variant) derived from the file and the chunk's position in it. */
export function chunkIdFor(fileId: string, seq: number): string {
  const hex = createHash('sha256').update(`${fileId}:${seq}`).digest('hex');
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A file's chunks (their vectors go with them, ON DELETE CASCADE); run it inside a {@link CHUNK_WRITES} transaction. */
async function deleteChunksOf(manager: EntityManager, fileId: string, userId: string): Promise<number> {
  const result: unknown = await manager.query('DELETE FROM file_chunks WHERE file_id = ? AND user_id = ?', [
    fileId,
    userId,
  ]);
  return affectedRows(result);
}

async function insertInBatches(
  manager: EntityManager,
  fileId: string,
  userId: string,
  chunks: NewChunk[],
): Promise<void> {
  await insertRows(
    manager,
    'INSERT INTO file_chunks (id, file_id, user_id, seq, heading, content, tokens) VALUES',
    '(?, ?, ?, ?, ?, ?, ?)',
    '',
    chunks.map((chunk) => ({
      values: [
        chunkIdFor(fileId, chunk.seq),
        fileId,
        userId,
        chunk.seq,
        chunk.heading === undefined ? null : truncate(chunk.heading, HEADING_MAX_CHARS),
        chunk.content,
        Math.max(0, Math.round(chunk.tokens)),
      ],
      bytes: Buffer.byteLength(chunk.content) + 200,
    })),
  );
}

/** Multi-row upserts into `file_chunk_vectors`. */
async function insertVectors(
  manager: EntityManager,
  fileId: string,
  userId: string,
  vectors: { seq: number; embedding: Float32Array }[],
): Promise<void> {
  await insertRows(
    manager,
    'INSERT INTO file_chunk_vectors (chunk_id, file_id, user_id, embedding) VALUES',
    '(?, ?, ?, ?)',
    'ON DUPLICATE KEY UPDATE embedding = VALUES(embedding)',
    vectors.map((vector) => {
      const embedding = encodeVector(vector.embedding);
      return { values: [chunkIdFor(fileId, vector.seq), fileId, userId, embedding], bytes: embedding.length + 150 };
    }),
  );
}

/**
 * Multi-row statements of at most INSERT_BATCH_ROWS rows or INSERT_BATCH_BYTES bytes. Inside a transaction they are
 * prepared statements: the values travel in MySQL's binary protocol, so megabytes of chunk text are not escaped into
 * SQL on the worker's main thread and parsed back by the server. A batch is sent as statements of 512, 256, … 1 rows
 * (its count's binary digits), so each connection prepares at most ten statements per table, whatever the chunks.
 */
async function insertRows(
  manager: EntityManager,
  head: string,
  placeholder: string,
  tail: string,
  rows: { values: unknown[]; bytes: number }[],
): Promise<void> {
  const execute = preparedExecutor(manager);
  let batch: unknown[] = [];
  let count = 0;
  let bytes = 0;
  const statement = (rowCount: number) => `${head} ${Array(rowCount).fill(placeholder).join(', ')} ${tail}`;
  const flush = async (): Promise<void> => {
    if (count === 0) return;
    if (execute) {
      const perRow = batch.length / count;
      let done = 0;
      for (let size = INSERT_BATCH_ROWS; size >= 1; size >>= 1) {
        if ((count - done) & size) {
          await execute(statement(size), batch.slice(done * perRow, (done + size) * perRow));
          done += size;
        }
      }
    } else {
      await manager.query(statement(count), batch);
    }
    batch = [];
    count = 0;
    bytes = 0;
  };
  for (const row of rows) {
    if (count > 0 && (count >= INSERT_BATCH_ROWS || bytes + row.bytes > INSERT_BATCH_BYTES)) await flush();
    batch.push(...row.values);
    count++;
    bytes += row.bytes;
  }
  await flush();
}

/** Runs a prepared statement on the transaction's own connection (mysql2), or undefined outside a transaction. */
function preparedExecutor(manager: EntityManager): ((sql: string, values: unknown[]) => Promise<void>) | undefined {
  type Connection = { execute?: (sql: string, values: unknown[], callback: (error: Error | null) => void) => void };
  const runner = manager.queryRunner as unknown as
    { isTransactionActive: boolean; databaseConnection?: Connection } | undefined;
  const connection = runner?.isTransactionActive ? runner.databaseConnection : undefined;
  if (typeof connection?.execute !== 'function') return undefined;
  return (sql, values) =>
    new Promise<void>((resolve, reject) =>
      connection.execute!(sql, values, (error) => (error ? reject(error) : resolve())),
    );
}

function toHit(row: HitRow): ChunkHit {
  return {
    chunkId: row.id,
    fileId: row.file_id,
    fileName: row.file_name,
    seq: Number(row.seq),
    heading: row.heading,
    content: row.content,
    score: Number(row.score ?? 0),
  };
}

function placeholders(count: number): string {
  return Array(count).fill('?').join(', ');
}

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return 0;
  return Math.min(MAX_LIMIT, Math.max(0, Math.floor(limit)));
}

function truncate(text: string, maxChars: number): string {
  const chars = [...text];
  return chars.length <= maxChars ? text : chars.slice(0, maxChars).join('');
}

function affectedRows(result: unknown): number {
  // mysql2 answers a DELETE with a ResultSetHeader; TypeORM passes it through as-is.
  if (typeof result === 'object' && result !== null && 'affectedRows' in result) {
    return Number(result.affectedRows) || 0;
  }
  return 0;
}

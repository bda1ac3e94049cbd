/*
 * What timing every SQL statement and Redis command costs, by hand (not part of `npm run bench`):
 *   node -r ./test/support/register-ts.cjs bench/metrics-wrapping.micro.ts
 * The database and Redis are stubs that answer at once, so the figures are the wrappers' own cost per call (labels,
 * clock, histogram), compared with the same stub unwrapped.
 */
import { Command, Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { Metrics } from '../libs/metrics/metrics';

const ROUNDS = 200_000;

type Callback = (error: unknown, rows?: unknown) => void;

function stubDataSource(): { dataSource: DataSource; connection: { query: (...args: unknown[]) => unknown } } {
  const connection = {
    query(...args: unknown[]) {
      (args[2] as Callback)(null, []);
    },
  };
  const pool = { getConnection: (callback: (error: unknown, c: unknown) => void) => callback(null, connection) };
  const tables = ['users', 'sessions', 'messages', 'turns', 'conversations', 'audit_log', 'files', 'file_chunks'];
  const dataSource = {
    driver: { pool },
    entityMetadatas: tables.map((tableName) => ({ tableName })),
    options: { migrationsTableName: 'schema_migrations' },
  } as unknown as DataSource;
  return { dataSource, connection };
}

/** A TypeORM-shaped SELECT: every column listed before FROM (about 1.4 kB). */
const columns = Array.from(
  { length: 20 },
  (_, i) => `\`MessageEntity\`.\`column_${i}\` AS \`MessageEntity_column_${i}\``,
);
const SELECT = `SELECT ${columns.join(', ')} FROM \`messages\` \`MessageEntity\` WHERE \`MessageEntity\`.\`conversationId\` = ? ORDER BY \`MessageEntity\`.\`createdAt\` ASC`;

/** Equal texts in distinct strings, flattened as mysql2 flattens them to write them: TypeORM builds one per query. */
const FRESH = Array.from({ length: 1000 }, (_, i) => {
  const text = `${SELECT.slice(0, 100 + (i % 7))}${SELECT.slice(100 + (i % 7))}`;
  Buffer.byteLength(text);
  return text;
});

function nsPerCall(run: (i: number) => void): number {
  for (let i = 0; i < 20_000; i++) run(i); // warm-up
  const started = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) run(i);
  return Number(process.hrtime.bigint() - started) / ROUNDS;
}

async function nsPerAsyncCall(run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20_000; i++) await run();
  const started = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) await run();
  return Number(process.hrtime.bigint() - started) / ROUNDS;
}

function stubRedis(): Redis {
  const redis = new Redis({ lazyConnect: true });
  redis.sendCommand = (command: Command) => {
    command.resolve('OK');
    return command.promise;
  };
  return redis;
}

async function main(): Promise<void> {
  const noop = () => undefined;
  const bare = stubDataSource();
  const plain = nsPerCall((i) => bare.connection.query(FRESH[i % FRESH.length], [], noop));

  const wrapped = stubDataSource();
  new Metrics('api').watchDatabase(wrapped.dataSource);
  let connection: { query: (...args: unknown[]) => unknown } | undefined;
  (wrapped.dataSource.driver as unknown as { pool: { getConnection: (cb: Callback) => void } }).pool.getConnection(
    (_error, c) => (connection = c as typeof connection),
  );
  const timed = nsPerCall((i) => connection!.query(FRESH[i % FRESH.length], [], noop));
  const short = nsPerCall(() => connection!.query('COMMIT', [], noop));

  const bareRedis = stubRedis();
  const redisPlain = await nsPerAsyncCall(() => bareRedis.get('k'));
  const timedRedis = stubRedis();
  new Metrics('worker').watchRedisCommands(timedRedis);
  const redisTimed = await nsPerAsyncCall(() => timedRedis.get('k'));

  const row = (what: string, ns: number) => console.log(`${what.padEnd(52)} ${ns.toFixed(0).padStart(6)} ns`);
  row('SQL query, stub, unwrapped', plain);
  row('SQL query, wrapped (1.4 kB TypeORM SELECT)', timed);
  row('SQL query, wrapped (COMMIT)', short);
  row('  => overhead per SELECT', timed - plain);
  row('Redis GET, stub, unwrapped (awaited)', redisPlain);
  row('Redis GET, wrapped (awaited)', redisTimed);
  row('  => overhead per command', redisTimed - redisPlain);
  bareRedis.disconnect();
  timedRedis.disconnect();
}

void main();

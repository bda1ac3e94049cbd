import type { DataSource } from 'typeorm';
import { createDataSource, migrateDatabase, splitDatabaseUrl } from '#libs/db/data-source';
import { schemaTables } from '#libs/metrics/db-query-timing';
import { Metrics } from '#libs/metrics/metrics';
import { REDIS_COMMANDS } from '#libs/metrics/redis-command-timing';
import { SQL_OPERATIONS } from '#libs/metrics/sql-statement';
import { connectScratchRedis, type ScratchRedis } from './support/scratch-redis';
import { testConfig, testEnv } from './support/test-env';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    out.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return out;
}

/** The sum of the samples of `name` whose labels include every pair of `labels`. */
function sum(all: Sample[], name: string, labels: Record<string, string>): number {
  return all
    .filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value))
    .reduce((total, s) => total + s.value, 0);
}

/*
 * Per-statement database timing and per-command Redis timing, on the real MySQL and Redis: the counts move by exactly
 * what was run, failures are counted, a blocking XREAD is apart, and no label value leaves its fixed set.
 */
describe('db query and redis command metrics on the real MySQL and Redis', () => {
  const config = testConfig(testEnv('dbredis_metrics'));
  const metrics = new Metrics('api');
  let db: DataSource;
  let scratch: ScratchRedis;
  const scrape = async () => samples((await metrics.exposition()).body);
  const queries = (all: Sample[], operation: string, table: string) =>
    sum(all, 'gigachat_db_query_duration_seconds_count', { operation, table });
  const commands = (all: Sample[], command: string) =>
    sum(all, 'gigachat_redis_command_duration_seconds_count', { command });

  beforeAll(async () => {
    await migrateDatabase(config.database.url);
    db = await createDataSource(config.database.url, 2).initialize();
    metrics.watchDatabase(db);
    metrics.watchDatabase(db); // a second call must not count twice
    scratch = await connectScratchRedis('dbredis-metrics');
    metrics.watchRedisCommands(scratch.redis);
  });

  afterAll(async () => {
    if (db?.isInitialized) {
      await db.query(`DROP DATABASE IF EXISTS \`${splitDatabaseUrl(config.database.url).database}\``);
      await db.destroy();
    }
    await scratch?.drop();
  });

  it('counts each statement once by operation and table, a failed one as an error, and a transaction’s parts', async () => {
    const before = await scrape();
    await db.query('SELECT COUNT(*) FROM `users`');
    await db.query('SELECT id FROM users WHERE id = ?', ['no-such-user']);
    await db.query('UPDATE `turns` SET `status` = `status` WHERE 1 = 0');
    await expect(db.query('SELECT no_such_column FROM `messages`')).rejects.toThrow(/no_such_column/);
    await db.transaction(async (manager) => {
      await manager.query('DELETE FROM `audit_log` WHERE 1 = 0');
    });
    const after = await scrape();
    const moved = (operation: string, table: string) =>
      queries(after, operation, table) - queries(before, operation, table);
    expect(moved('select', 'users')).toBe(2);
    expect(moved('update', 'turns')).toBe(1);
    expect(moved('select', 'messages')).toBe(1);
    expect(moved('delete', 'audit_log')).toBe(1);
    expect(moved('begin', 'other')).toBe(1);
    expect(moved('commit', 'other')).toBe(1);
    const errors = (all: Sample[], operation: string) => sum(all, 'gigachat_db_query_errors_total', { operation });
    expect(errors(after, 'select') - errors(before, 'select')).toBe(1);
    expect(errors(after, 'update') - errors(before, 'update')).toBe(0);
    const sumMoved =
      sum(after, 'gigachat_db_query_duration_seconds_sum', { operation: 'select', table: 'users' }) -
      sum(before, 'gigachat_db_query_duration_seconds_sum', { operation: 'select', table: 'users' });
    expect(sumMoved).toBeGreaterThan(0);
    expect(sumMoved).toBeLessThan(5);
  });

  it('times a streamed query (as retrieval reads vectors) until its end', async () => {
    const before = await scrape();
    const runner = db.createQueryRunner();
    try {
      const stream = await runner.stream('SELECT id FROM `file_chunks`');
      for await (const row of stream) void row;
    } finally {
      await runner.release();
    }
    const after = await scrape();
    expect(queries(after, 'select', 'file_chunks') - queries(before, 'select', 'file_chunks')).toBe(1);
  });

  it('counts a statement whose connection is killed under it as an error, and the pool goes on serving', async () => {
    const before = await scrape();
    const runner = db.createQueryRunner();
    try {
      const [{ id }] = (await runner.query('SELECT CONNECTION_ID() AS id')) as [{ id: number }];
      const sleeping = runner.query('SELECT SLEEP(5) AS s, (SELECT COUNT(*) FROM `users`) AS n');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await db.query(`KILL ${Number(id)}`);
      await expect(sleeping).rejects.toThrow();
    } finally {
      await runner.release().catch(() => undefined);
    }
    await expect(db.query('SELECT 1 AS one FROM DUAL')).resolves.toEqual([{ one: 1 }]);
    const after = await scrape();
    const errors = (all: Sample[]) => sum(all, 'gigachat_db_query_errors_total', { operation: 'select' });
    expect(errors(after) - errors(before)).toBe(1);
    expect(queries(after, 'other', 'other') - queries(before, 'other', 'other')).toBe(1); // the KILL
  });

  it('counts each Redis command once, a failed one as an error, and a blocking XREAD on a duplicate as xread_block', async () => {
    const { redis } = scratch;
    const before = await scrape();
    await redis.set('k', 'v');
    await redis.get('k');
    await redis.get('k');
    await redis.xadd('stream', '*', 'event', 'token');
    await redis.call('XREAD', 'COUNT', 10, 'STREAMS', 'stream', '0');
    await expect(redis.incr('k')).rejects.toThrow();
    const reader = redis.duplicate();
    try {
      await reader.call('XREAD', 'BLOCK', 100, 'STREAMS', 'stream', '$');
    } finally {
      reader.disconnect();
    }
    const after = await scrape();
    const moved = (command: string) => commands(after, command) - commands(before, command);
    expect(['set', 'get', 'xadd', 'xread', 'incr', 'xread_block'].map((c) => [c, moved(c)])).toEqual([
      ['set', 1],
      ['get', 2],
      ['xadd', 1],
      ['xread', 1],
      ['incr', 1],
      ['xread_block', 1],
    ]);
    const errors = (all: Sample[], command: string) => sum(all, 'gigachat_redis_command_errors_total', { command });
    expect(errors(after, 'incr') - errors(before, 'incr')).toBe(1);
    expect(errors(after, 'get') - errors(before, 'get')).toBe(0);
    const blockedSeconds =
      sum(after, 'gigachat_redis_command_duration_seconds_sum', { command: 'xread_block' }) -
      sum(before, 'gigachat_redis_command_duration_seconds_sum', { command: 'xread_block' });
    expect(blockedSeconds).toBeGreaterThanOrEqual(0.09);
  });

  it('never exports a label value outside the fixed sets, whatever SQL or command was sent', async () => {
    await db.query("SELECT 'secret-value-123' AS x FROM DUAL").catch(() => undefined);
    await db.query('SELECT * FROM `information_schema`.`TABLES` LIMIT 1');
    await scratch.redis.call('ECHO', 'secret-value-123');
    const tables = new Set([...schemaTables(db), 'other']);
    const all = await scrape();
    const dbSeries = all.filter((s) => s.name.startsWith('gigachat_db_query_'));
    const redisSeries = all.filter((s) => s.name.startsWith('gigachat_redis_command_'));
    expect(dbSeries.length).toBeGreaterThan(0);
    expect(redisSeries.length).toBeGreaterThan(0);
    for (const { labels } of dbSeries) {
      expect(SQL_OPERATIONS).toContain(labels.operation);
      if (labels.table !== undefined) expect(tables.has(labels.table)).toBe(true);
    }
    for (const { labels } of redisSeries) expect(REDIS_COMMANDS).toContain(labels.command);
    expect(queries(all, 'select', 'other')).toBeGreaterThanOrEqual(2);
    expect(commands(all, 'other')).toBeGreaterThanOrEqual(1);
  });
});

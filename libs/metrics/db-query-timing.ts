import type { DataSource } from 'typeorm';
import { SqlStatementLabels, type SqlLabels } from './sql-statement';

/** What is told about each statement: its labels, how long it took, and whether it failed. */
export type QueryObserver = (labels: SqlLabels, seconds: number, failed: boolean) => void;

type Callback = (error: unknown, ...rest: unknown[]) => void;
interface PooledConnection {
  query: (...args: unknown[]) => unknown;
}
interface Pool {
  getConnection: (callback: (error: unknown, connection?: PooledConnection) => void) => unknown;
}
interface QueryEmitter {
  once(event: 'end', listener: () => void): unknown;
  emit: (this: QueryEmitter, event: string | symbol, ...args: unknown[]) => boolean;
}

/** Each wrapped pool's observers (two processes' metrics may share a data source in tests). */
const poolObservers = new WeakMap<object, QueryObserver[]>();
const watchedConnections = new WeakSet<object>();

/**
 * Times every statement TypeORM sends through the data source's mysql2 pool: each connection the pool hands out has its
 * `query` wrapped once, measured from the call to its callback (or, for a streamed query, to its `end`). The
 * observer's failures are swallowed: a metric never breaks a query. A data source whose driver has no mysql2 pool (not
 * yet initialised, another driver) is left alone and `false` is returned.
 */
export function timeDatabaseQueries(dataSource: DataSource, observe: QueryObserver): boolean {
  const pool = (dataSource.driver as unknown as { pool?: Pool }).pool;
  if (!pool || typeof pool.getConnection !== 'function') return false;
  const observers = poolObservers.get(pool);
  if (observers) {
    if (!observers.includes(observe)) observers.push(observe);
    return true;
  }
  const all = [observe];
  poolObservers.set(pool, all);
  const labels = new SqlStatementLabels(schemaTables(dataSource));
  const getConnection = pool.getConnection;
  pool.getConnection = function (this: Pool, callback: (error: unknown, connection?: PooledConnection) => void) {
    return getConnection.call(this, (error: unknown, connection?: PooledConnection) => {
      if (connection && !error) watchConnection(connection, labels, all);
      callback(error, connection);
    });
  };
  return true;
}

/** The schema's table names: every entity's table and the migrations table. */
export function schemaTables(dataSource: DataSource): string[] {
  const tables = dataSource.entityMetadatas.map((entity) => entity.tableName);
  const migrations = (dataSource.options as { migrationsTableName?: string }).migrationsTableName ?? 'migrations';
  return [...tables, migrations];
}

function watchConnection(connection: PooledConnection, labels: SqlStatementLabels, observe: QueryObserver[]): void {
  if (watchedConnections.has(connection)) return;
  watchedConnections.add(connection);
  const query = connection.query;
  connection.query = function (this: PooledConnection, ...args: unknown[]) {
    const started = performance.now();
    const sql = args[0];
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = function (this: unknown, error: unknown, ...rest: unknown[]) {
        report(observe, labels.of(sql), started, error != null);
        return (callback as Callback).call(this, error, ...rest);
      };
      return query.apply(this, args);
    }
    const emitter = query.apply(this, args) as QueryEmitter | undefined;
    if (emitter && typeof emitter.once === 'function') {
      // mysql2 emits `end` after an `error` too. Listening for `error` would change what an unheard error does, so the
      // failure is seen on its way through `emit` instead.
      let failed = false;
      const emit = emitter.emit;
      emitter.emit = function (this: QueryEmitter, event: string | symbol, ...rest: unknown[]) {
        if (event === 'error') failed = true;
        return emit.call(this, event, ...rest);
      };
      emitter.once('end', () => report(observe, labels.of(sql), started, failed));
    }
    return emitter;
  };
}

function report(observers: QueryObserver[], labels: SqlLabels, started: number, failed: boolean): void {
  const seconds = (performance.now() - started) / 1000;
  for (const observe of observers) {
    try {
      observe(labels, seconds, failed);
    } catch {
      // A metric that cannot be recorded is dropped; the query's own outcome is what matters.
    }
  }
}

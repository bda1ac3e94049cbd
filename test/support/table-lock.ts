import { type Harness, waitFor } from './harness';

/** A MySQL `LOCK TABLES … WRITE` held by the test on a connection of its own, until `release()`. */
export interface TableLock {
  /** Resolves once another session of this test's database waits on the lock (a step is blocked on it). */
  blocked(timeoutMs?: number): Promise<void>;
  release(): Promise<void>;
}

/**
 * Holds a write lock on `table` so that any other session's read or write of it waits: a worker step that touches the
 * table is then held at a known point, observed from MySQL's process list rather than through a hook in the code.
 */
export async function lockTable(h: Harness, table: string): Promise<TableLock> {
  const runner = h.db.createQueryRunner();
  await runner.connect();
  await runner.query(`LOCK TABLES \`${table}\` WRITE`);
  let released = false;
  return {
    async blocked(timeoutMs = 30_000) {
      await waitFor(
        async () => {
          const rows: { n: string | number }[] = await h.db.query(
            `SELECT COUNT(*) AS n FROM information_schema.processlist
              WHERE db = DATABASE() AND state LIKE 'Waiting for table%'`,
          );
          return Number(rows[0]?.n ?? 0) > 0 ? true : undefined;
        },
        timeoutMs,
        25,
      );
    },
    async release() {
      if (released) return;
      released = true;
      await runner.query('UNLOCK TABLES');
      await runner.release();
    },
  };
}

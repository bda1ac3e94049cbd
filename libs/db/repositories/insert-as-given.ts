import type { EntityManager, EntityTarget, InsertResult, ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

/**
 * INSERTs rows as they are given. TypeORM's own `insert` reads every row back afterwards for its default columns
 * (`created_at`, defaults): one more round trip per statement, on the hot path of every chat turn. The callers here
 * never use what it would read, so nothing is read back; with `orIgnore`, a row whose key exists is skipped
 * (`affectedRows` tells).
 */
export function insertAsGiven<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  values: QueryDeepPartialEntity<T> | QueryDeepPartialEntity<T>[],
  options: { orIgnore?: boolean } = {},
): Promise<InsertResult> {
  const query = manager.createQueryBuilder().insert().into(target).values(values).updateEntity(false);
  return (options.orIgnore ? query.orIgnore() : query).execute();
}

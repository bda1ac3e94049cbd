import fc from 'fast-check';
import { SQL_OPERATIONS, SqlStatementLabels, sqlOperation } from './sql-statement';

const TABLES = ['users', 'messages', 'turns', 'audit_log', 'schema_migrations'];

describe('SqlStatementLabels', () => {
  const labels = new SqlStatementLabels(TABLES);

  it('reads the operation and main table of the statements TypeORM sends', () => {
    const columns = Array.from({ length: 30 }, (_, i) => `\`MessageEntity\`.\`c${i}\` AS \`MessageEntity_c${i}\``);
    const cases: [string, string, string][] = [
      [`SELECT ${columns.join(', ')} FROM \`messages\` \`MessageEntity\` WHERE \`id\` = ?`, 'select', 'messages'],
      ['INSERT INTO `turns`(`id`, `status`) VALUES (?, ?)', 'insert', 'turns'],
      ['INSERT IGNORE INTO users (id) VALUES (1)', 'insert', 'users'],
      ['UPDATE `users` SET `name` = ? WHERE `id` IN (?)', 'update', 'users'],
      ['DELETE FROM `gigachat`.`audit_log` WHERE `id` = ?', 'delete', 'audit_log'],
      ['REPLACE INTO messages SET id = 1', 'replace', 'messages'],
      ['  /* hint */ -- note\n select 1 from `schema_migrations`', 'select', 'schema_migrations'],
      ['START TRANSACTION', 'begin', 'other'],
      ['BEGIN', 'begin', 'other'],
      ['COMMIT', 'commit', 'other'],
      ['ROLLBACK', 'rollback', 'other'],
      ['SAVEPOINT typeorm_1', 'savepoint', 'other'],
      ['RELEASE SAVEPOINT typeorm_1', 'savepoint', 'other'],
      ['ROLLBACK TO SAVEPOINT typeorm_1', 'savepoint', 'other'],
      ['SET TRANSACTION ISOLATION LEVEL READ COMMITTED', 'set', 'other'],
      ['SHOW TABLES', 'show', 'other'],
      ['SELECT VERSION() AS `version`', 'select', 'other'],
      ['SELECT * FROM (SELECT 1) AS t', 'select', 'other'],
      ['SELECT * FROM `INFORMATION_SCHEMA`.`TABLES` WHERE 1', 'select', 'other'],
      ['SELECT * FROM secrets_1234', 'select', 'other'],
      ['CREATE TABLE x (id int)', 'other', 'other'],
      ['', 'other', 'other'],
    ];
    for (const [sql, operation, table] of cases) expect([sql, labels.of(sql)]).toEqual([sql, { operation, table }]);
  });

  it("reads mysql2's options form, and anything that is not SQL is other", () => {
    expect(labels.of({ sql: 'DELETE FROM turns', timeout: 5 })).toEqual({ operation: 'delete', table: 'turns' });
    for (const value of [undefined, null, 42, { sql: 1 }]) {
      expect(labels.of(value)).toEqual({ operation: 'other', table: 'other' });
    }
  });

  it('never yields a label outside the operations and the schema tables, whatever the text', () => {
    const tables = new Set([...TABLES, 'other']);
    const words = fc.constantFrom('select', 'FROM', 'insert', 'into', 'users', '`messages`', 'x.y', ' ', '(', '*', "'");
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(words).map((parts) => parts.join(' ')),
        ),
        (sql) => {
          const { operation, table } = labels.of(sql);
          expect(SQL_OPERATIONS).toContain(operation);
          expect(tables.has(table)).toBe(true);
        },
      ),
    );
  });
});

describe('sqlOperation', () => {
  it('is case-insensitive and looks at whole words only', () => {
    expect(sqlOperation('select 1')).toBe('select');
    expect(sqlOperation('Insert into t')).toBe('insert');
    expect(sqlOperation('selected')).toBe('other');
    expect(sqlOperation('start slave')).toBe('other');
  });
});

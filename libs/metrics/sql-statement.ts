/**
 * Labels for one SQL statement: the kind of statement and the main table it touches, both from small fixed sets, so
 * no raw SQL, id or value ever becomes a label. Parsing is a few anchored regexes, well under a microsecond for a
 * TypeORM SELECT. Nothing is cached: TypeORM builds a new string for each query, so a cache keyed by the text would
 * hash and compare the whole statement on every call, which costs more than parsing it (bench/metrics-wrapping.micro.ts).
 */

/** The statement kinds that get a label of their own; anything else is `other`. */
export const SQL_OPERATIONS = [
  'select',
  'insert',
  'update',
  'delete',
  'replace',
  'begin',
  'commit',
  'rollback',
  'savepoint',
  'set',
  'show',
  'other',
] as const;
export type SqlOperation = (typeof SQL_OPERATIONS)[number];

export interface SqlLabels {
  operation: SqlOperation;
  /** One of the schema's tables, or `other`. */
  table: string;
}

/** How far into a statement its first keyword is looked for (after comments and whitespace). */
const HEAD_CHARS = 200;

const LEADING = /^(?:\s+|\/\*[\s\S]*?\*\/|--[^\n]*\n|#[^\n]*\n)*/;
const FIRST_WORDS = /^([a-z]+)(?:\s+([a-z]+))?/i;
// Where the main table's name follows, per kind of statement; a name may be `quoted` and schema-qualified.
const NAME = '(?:`?\\w+`?\\.)?`?(\\w+)`?';
const TABLE_AFTER: Partial<Record<SqlOperation, RegExp>> = {
  insert: new RegExp(`^insert\\s+(?:(?:low_priority|delayed|high_priority|ignore)\\s+)*(?:into\\s+)?${NAME}`, 'i'),
  replace: new RegExp(`^replace\\s+(?:(?:low_priority|delayed)\\s+)?(?:into\\s+)?${NAME}`, 'i'),
  update: new RegExp(`^update\\s+(?:(?:low_priority|ignore)\\s+)*${NAME}`, 'i'),
  delete: new RegExp(`^delete\\s+(?:(?:low_priority|quick|ignore)\\s+)*from\\s+${NAME}`, 'i'),
};
const SELECT_FROM = new RegExp(`\\sfrom\\s+${NAME}`, 'i');

/** Parses SQL statements into labels, knowing the schema's table names. */
export class SqlStatementLabels {
  private readonly tables: ReadonlySet<string>;

  constructor(tables: Iterable<string>) {
    this.tables = new Set([...tables].map((table) => table.toLowerCase()));
  }

  /** The labels for `sql` (a string, or mysql2's `{ sql }` options object); `other`/`other` for anything else. */
  of(sql: unknown): SqlLabels {
    const text = typeof sql === 'string' ? sql : (sql as { sql?: unknown } | null)?.sql;
    return typeof text === 'string' ? this.parse(text) : OTHER;
  }

  private parse(sql: string): SqlLabels {
    // Most statements start with their keyword: only the others are searched for comments and whitespace to skip.
    const start = isLetter(sql.charCodeAt(0)) ? 0 : (LEADING.exec(sql.slice(0, HEAD_CHARS))?.[0].length ?? 0);
    const statement = start > 0 ? sql.slice(start) : sql;
    const operation = sqlOperation(statement.slice(0, 40));
    if (operation === 'other') return OTHER;
    let name: string | undefined;
    if (operation === 'select') {
      // TypeORM lists every column first, so FROM may be far in; only the first FROM is the main table.
      name = SELECT_FROM.exec(statement)?.[1];
    } else {
      const pattern = TABLE_AFTER[operation];
      name = pattern ? pattern.exec(statement.slice(0, HEAD_CHARS))?.[1] : undefined;
    }
    const table = name !== undefined && this.tables.has(name.toLowerCase()) ? name.toLowerCase() : 'other';
    return { operation, table };
  }
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

const OTHER: SqlLabels = Object.freeze({ operation: 'other', table: 'other' });

/** The kind of statement from its first word or two: `START TRANSACTION` and `BEGIN` are both `begin`. */
export function sqlOperation(head: string): SqlOperation {
  const words = FIRST_WORDS.exec(head);
  if (!words) return 'other';
  const first = words[1]!.toLowerCase();
  const second = words[2]?.toLowerCase();
  switch (first) {
    case 'select':
    case 'insert':
    case 'update':
    case 'delete':
    case 'replace':
    case 'begin':
    case 'commit':
    case 'savepoint':
    case 'set':
    case 'show':
      return first;
    case 'start':
      return second === 'transaction' ? 'begin' : 'other';
    case 'rollback':
      return second === 'to' ? 'savepoint' : 'rollback';
    case 'release':
      return second === 'savepoint' ? 'savepoint' : 'other';
    default:
      return 'other';
  }
}

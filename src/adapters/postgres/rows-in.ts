/**
 * Many rows of a composite key as one condition PostgreSQL can plan at any length.
 *
 * `(a,b) IN ((1,2),(3,4),…)` is rewritten by the parser into a nested OR, one level per row:
 * some thousands of rows exceed `max_stack_depth` ("stack depth limit exceeded"), and fewer
 * make a huge expression that JIT compiles for minutes. `(a,b) IN (VALUES (1,2),(3,4),…)` is a
 * semijoin against a row list instead (hashed, or an index probe per row), flat at any length.
 *
 * A VALUES column takes its type from its own values, so unknown-typed literals (`'2024-01-01'`)
 * would make it text and `date = text` fails: the first row casts each value to its column's
 * type family. Enum types live in the schema of the table holding the column, which a join
 * does not tell; their columns are compared as text.
 */
import type { ValueKind } from '../../heading/kinds.js';
import type { RowsColumn } from '../adapter.js';

/** Below this many rows the plain IN list is kept (short, and what the SQL-text tests expect). */
export const MANY_ROWS = 100;

/**
 * The type the first VALUES row casts a column's values to, or '' for literals that carry their
 * type (numbers, booleans, bytea). Families without a length or precision: a cast to
 * `varchar(3)` or `timestamp(0)` would cut or round a value into one that matches another row.
 */
const CAST: Partial<Record<ValueKind, string>> = {
  int: '',
  bigint: '',
  float: '',
  bool: '',
  bytes: '',
  decimal: 'numeric',
  string: 'text',
  enum: 'text',
  date: 'date',
  datetime: 'timestamp',
  time: 'time',
  uuid: 'uuid',
  json: 'jsonb',
};

export function postgresManyRowsIn(columns: readonly RowsColumn[], rows: ReadonlyArray<readonly string[]>): string | null {
  // One column is already flat: the server makes `a IN (…)` an `= ANY(array)`.
  if (columns.length < 2 || rows.length < MANY_ROWS) return null;
  const casts: string[] = [];
  for (const c of columns) {
    const cast = c.kind === null ? undefined : CAST[c.kind];
    if (cast === undefined) return null; // a computed value of unknown type: keep the plain form
    casts.push(cast);
  }
  const lhs = columns.map((c) => (c.kind === 'enum' ? `(${c.sql})::text` : c.sql)).join(',');
  const first = rows[0]!.map((v, i) => (casts[i] ? `CAST(${v} AS ${casts[i]})` : v));
  const rest = rows.slice(1).map((r) => `(${r.join(',')})`);
  return `(${lhs}) IN (VALUES (${first.join(',')})${rest.length ? ',' : ''}${rest.join(',')})`;
}

/**
 * Conditions selecting rows by lists of key values, as SQL text with literals (used by
 * populate, jobs and the delete cascade).
 */
import type { Dialect, SqlValue } from '../adapters/adapter.js';
import type { Connection } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import type { ValueKind } from '../heading/kinds.js';
import { encodeScalar } from '../fetch/convert.js';
import type { Row } from '../fetch/fetch.js';

/**
 * The rows whose primary key equals one of `keys` (FALSE when empty). `pk`: the key
 * attributes to match when the keys hold only some of the primary key (populate's keys of a
 * table that adds primary-key attributes of its own).
 */
export function keysCondition(conn: Connection, heading: Heading, keys: Row[], pk: readonly string[] = heading.primaryKey): string {
  const d = conn.dialect;
  const encoded = keys.map((r) =>
    pk.map((k) => {
      const a = heading.get(k)!;
      return d.bindValue(a.kind, encodeScalar({ ...a, nullable: true }, r[k]));
    }),
  );
  return tuplesCondition(d, pk, encoded, pk.map((k) => heading.get(k)!.kind));
}

/**
 * `cols` equal to one of the value tuples (already SQL values): a single column's IN list, or
 * an OR of equalities, a range read on every server. Many tuples take the dialect's form for
 * long lists when the columns' value `kinds` are given: an OR of thousands of equalities is
 * evaluated row by row on MariaDB (21 s for 19,000 keys) and nests too deep on PostgreSQL.
 */
export function tuplesCondition(d: Dialect, cols: readonly string[], tuples: SqlValue[][], kinds?: readonly ValueKind[]): string {
  if (!tuples.length) return 'FALSE';
  const rows = tuples.map((t) => t.map((v) => d.literal(v)));
  if (kinds && rows.length > 1) {
    const many = d.manyRowsIn(
      cols.map((c, i) => ({ sql: d.quoteId(c), kind: kinds[i] === 'other' ? null : (kinds[i] ?? null) })),
      rows,
    );
    if (many) return many;
  }
  if (cols.length === 1) return `${d.quoteId(cols[0]!)} IN (${rows.map((r) => r[0]).join(',')})`;
  const one = (r: string[]) => cols.map((c, i) => `${d.quoteId(c)}=${r[i]}`).join(' AND ');
  return rows.length === 1 ? one(rows[0]!) : `(${rows.map((r) => `(${one(r)})`).join(' OR ')})`;
}

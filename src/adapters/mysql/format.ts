/**
 * Inlining bound parameters into MySQL statement text (mysql2's `queryFormat` hook).
 *
 * mysql2's `query()` does not send parameters separately: it writes them into the SQL text with
 * backslash escapes, which a server running with NO_BACKSLASH_ESCAPES reads differently (the
 * string `\' OR 1=1 -- ` would end early and the rest would run as SQL). This formatter inlines
 * each value with the dialect's literal, which reads the same under any sql_mode, and replaces
 * only the `?` placeholders outside quoted strings, quoted names and comments (a `?` inside a
 * literal is text, not a placeholder).
 */
import { DataJointError } from '../../errors.js';
import type { SqlValue } from '../adapter.js';
import { mysqlDialect } from './dialect.js';

/** Index just past the quoted text starting at `i` (quote char code `q`; doubled quotes and, except in names, backslash escapes). */
function skipQuoted(sql: string, i: number, q: number): number {
  const n = sql.length;
  for (let j = i + 1; j < n; j++) {
    const c = sql.charCodeAt(j);
    if (c === 92 /* \ */ && q !== 96) j++;
    else if (c === q) {
      if (sql.charCodeAt(j + 1) === q) j++;
      else return j + 1;
    }
  }
  return n;
}

/** Index of the end of the line from `i` (a `#` or `-- ` comment). */
function endOfLine(sql: string, i: number): number {
  const e = sql.indexOf('\n', i);
  return e < 0 ? sql.length : e;
}

/**
 * `sql` with its `?` placeholders replaced, in order, by the literals of `values`. A hand-written
 * scan (quotes, comments, placeholders): about as fast as mysql2's own formatter.
 */
export function formatQuery(sql: string, values: readonly unknown[] | undefined | null): string {
  if (!values || values.length === 0) return sql;
  let out = '';
  let last = 0;
  let v = 0;
  const n = sql.length;
  for (let i = 0; i < n; ) {
    const c = sql.charCodeAt(i);
    if (c === 63 /* ? */) {
      if (v >= values.length) break; // more placeholders than values: the server reports it
      out += sql.slice(last, i) + mysqlDialect.literal(values[v++] as SqlValue);
      last = ++i;
    } else if (c === 39 || c === 34 || c === 96) i = skipQuoted(sql, i, c);
    else if (c === 35 /* # */) i = endOfLine(sql, i);
    else if (c === 45 && sql.charCodeAt(i + 1) === 45 && /\s/.test(sql[i + 2] ?? '')) i = endOfLine(sql, i);
    else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const e = sql.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
    } else i++;
  }
  if (v < values.length) throw new DataJointError(`The statement has ${v} placeholders but ${values.length} values were bound:\n${sql.slice(0, 500)}`);
  return out + sql.slice(last);
}

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

/** Quoted strings (either quote, `''` or backslash escapes), quoted names, comments, or a `?`. */
const TOKENS = /'(?:[^'\\]|\\[\s\S]|'')*'|"(?:[^"\\]|\\[\s\S]|"")*"|`(?:[^`]|``)*`|--(?=\s)[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\/|\?/g;

/** `sql` with its `?` placeholders replaced, in order, by the literals of `values`. */
export function formatQuery(sql: string, values: readonly unknown[] | undefined | null): string {
  if (!values || values.length === 0) return sql;
  let i = 0;
  const out = sql.replace(TOKENS, (token) => {
    if (token !== '?') return token;
    if (i >= values.length) return token; // more placeholders than values: the server reports it
    return mysqlDialect.literal(values[i++] as SqlValue);
  });
  if (i < values.length) throw new DataJointError(`The statement has ${i} placeholders but ${values.length} values were bound:\n${sql.slice(0, 500)}`);
  return out;
}

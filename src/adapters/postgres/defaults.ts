/**
 * Column defaults between DataJoint's neutral definition text (`5`, `'it''s'`, `TRUE`,
 * `CURRENT_TIMESTAMP(3)`, `NULL`) and PostgreSQL, both ways.
 *
 * Declaring: timestamps default to the current UTC time whatever a session's time zone
 * (`(CURRENT_TIMESTAMP(3) AT TIME ZONE 'UTC')`), booleans are TRUE/FALSE (PostgreSQL refuses
 * an integer default on a boolean column).
 *
 * Reading back: PostgreSQL reports a default as a deparsed expression with casts
 * (`'-5'::smallint`, `'it''s'::character varying`, `'U'::s.enum_x`, `NULL::numeric`, `true`,
 * `timezone('UTC'::text, CURRENT_TIMESTAMP(3))`); `normalizeDefault` removes that decoration
 * so headings and `describe()` show what the definition said.
 */
import { NUMBER } from '../defaults.js';
import { quoteString } from './types.js';

const TIMESTAMP = /^(?:current_timestamp|now|localtimestamp)\s*(?:\(\s*(\d*)\s*\))?$/i;
const NUMERIC_CAST = /^(smallint|integer|bigint|real|double precision|numeric(\(\d+(,\s*\d+)?\))?|int[248]?|float[48]|decimal)$/i;

/** The current UTC time with optional fractional digits, independent of the session's zone. */
export function utcNow(precision?: number | null): string {
  const p = precision === undefined || precision === null ? '' : `(${Math.trunc(precision)})`;
  return `(CURRENT_TIMESTAMP${p} AT TIME ZONE 'UTC')`;
}

/**
 * The SQL expression of a neutral default for a column of the given core type (`bool` turns
 * 0/1 into FALSE/TRUE), or null for NULL. Unquoted text that is no number, boolean or
 * timestamp is a string, as in DataJoint Python.
 */
export function renderDefault(text: string, coreType: string): string | null {
  const t = text.trim();
  const upper = t.toUpperCase();
  if (upper === 'NULL') return null;
  if (upper === 'TRUE' || upper === 'FALSE') return upper;
  if (coreType === 'bool' && (t === '0' || t === '1')) return t === '1' ? 'TRUE' : 'FALSE';
  const ts = TIMESTAMP.exec(t);
  if (ts) return utcNow(ts[1] ? Number(ts[1]) : null);
  if (NUMBER.test(t)) return t;
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t;
  // A double-quoted string would be an identifier in PostgreSQL.
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return quoteString(t.slice(1, -1).replace(/""/g, '"'));
  return quoteString(t);
}

/** Remove one pair of enclosing parentheses when they enclose the whole text. */
function unwrapParens(t: string): string {
  if (!t.startsWith('(') || !t.endsWith(')')) return t;
  let depth = 0;
  let inQuote = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c === "'") inQuote = !inQuote;
    else if (!inQuote && c === '(') depth++;
    else if (!inQuote && c === ')' && --depth === 0 && i < t.length - 1) return t;
  }
  return t.slice(1, -1).trim();
}

/** Split `'lit''eral'::type` into the literal (with its quotes) and the cast ('' when none). */
function splitLiteral(t: string): { literal: string; cast: string } | null {
  if (!t.startsWith("'")) return null;
  let i = 1;
  for (; i < t.length; i++) {
    if (t[i] === "'") {
      if (t[i + 1] === "'") i++;
      else break;
    }
  }
  if (i >= t.length) return null;
  const rest = t.slice(i + 1).trim();
  if (rest !== '' && !rest.startsWith('::')) return null;
  return { literal: t.slice(0, i + 1), cast: rest.replace(/^::/, '').trim() };
}

/** Strip a trailing `::type` from an unquoted expression (`true::boolean`, `NULL::numeric`). */
function stripCasts(t: string): string {
  let s = unwrapParens(t.trim());
  for (;;) {
    const m = /^(.*?)::[\w\s."()\[\],]+$/s.exec(s);
    if (!m || m[1]!.includes("'")) return s;
    s = unwrapParens(m[1]!.trim());
  }
}

/**
 * Neutral default text for a catalog default (`pg_get_expr` of `pg_attrdef`), or null when
 * the column has none. A NULL default reads as null for a nullable column and as `NULL`
 * otherwise. Sequence defaults (serial) read as null: the column is auto-increment.
 */
export function normalizeDefault(raw: string | null, nullable: boolean): string | null {
  if (raw === null || raw === undefined) return null;
  let t = unwrapParens(raw.trim());
  if (/^nextval\(/i.test(t)) return null;
  const lit = splitLiteral(t);
  if (lit) {
    // '-5'::smallint is the number -5; '5'::character varying stays the string '5'.
    const inner = lit.literal.slice(1, -1);
    const firstCast = lit.cast.split('::')[0]!.trim();
    if (NUMERIC_CAST.test(firstCast) && NUMBER.test(inner)) return inner;
    return lit.literal;
  }
  t = stripCasts(t);
  const upper = t.toUpperCase();
  if (upper === 'NULL') return nullable ? null : 'NULL';
  if (upper === 'TRUE' || upper === 'FALSE') return upper;
  if (NUMBER.test(t)) return t;
  const ts = TIMESTAMP.exec(t);
  if (ts) return ts[1] ? `CURRENT_TIMESTAMP(${ts[1]})` : 'CURRENT_TIMESTAMP';
  // timezone('UTC'::text, CURRENT_TIMESTAMP(3)) (PostgreSQL ≤ 16) or (… AT TIME ZONE 'UTC'::text).
  const tz =
    /^timezone\(\s*'utc'(?:::text)?\s*,\s*(.+)\)$/is.exec(t) ?? /^(.+?)\s+at time zone\s+'utc'(?:::text)?$/is.exec(t);
  if (tz) {
    const inner = TIMESTAMP.exec(stripCasts(tz[1]!.trim()));
    if (inner) return inner[1] ? `CURRENT_TIMESTAMP(${inner[1]})` : 'CURRENT_TIMESTAMP';
  }
  return t;
}

/**
 * MySQL functions in the SQL a user writes (restriction strings, computed attributes of proj and
 * aggr), rewritten for PostgreSQL as DataJoint Python's PostgreSQL adapter rewrites them, so
 * that the docs' examples run on both servers:
 * - `GROUP_CONCAT([DISTINCT] x [ORDER BY …] [SEPARATOR 's'])` → `STRING_AGG(…(x)::text, 's' …)`
 *   (separator ',' by default, as MySQL's);
 * - `CURDATE()` → `CURRENT_DATE`;
 * - `YEAR(x)`, `MONTH(x)`, `DAY(x)` → `EXTRACT(YEAR FROM x)::int` …;
 * - `SUM(a = b)`, `AVG(a = b)` (a comparison counted as 0/1) → `SUM((a = b)::int)`, and so for
 *   a boolean attribute (`SUM(correct)`, also `MIN`/`MAX`), which MySQL stores as 0/1 and
 *   PostgreSQL cannot aggregate so;
 * - `STD(x)` (MySQL's population standard deviation) → `STDDEV_POP(x)`;
 * - `TIMESTAMPDIFF(unit, a, b)` → whole units from a to b, truncated as MySQL does (`AGE` for
 *   years, quarters and months, the seconds between them for the rest); `DATEDIFF(a, b)` → the
 *   days from b to a.
 * Text inside string literals and quoted names is left alone; anything else is PostgreSQL's own
 * SQL and passes unchanged. Pure text.
 */

const NONE: ReadonlySet<string> = new Set();

/** The functions rewriteCall may rewrite. */
const NAMES = 'group_concat|curdate|year|month|day|sum|avg|min|max|std|timestampdiff|datediff';
const FUNCTION = new RegExp(`^(${NAMES})$`, 'i');
/** Whether a text may call one of them (most user SQL calls none, and is returned at once). */
const MAY_CALL = new RegExp(`(${NAMES})\\s*\\(`, 'i');
/** A comparison at the top level of an argument (not inside parentheses or strings). */
const COMPARISON = /<>|!=|<=|>=|=|<|>/;

/** Index just past the string literal or quoted name starting at `i`, or `i` when none starts there. */
function skipQuoted(sql: string, i: number): number {
  const q = sql[i];
  if (q !== "'" && q !== '"') return i;
  let j = i + 1;
  while (j < sql.length) {
    if (sql[j] === q) {
      if (sql[j + 1] === q) j += 2;
      else return j + 1;
    } else j++;
  }
  return j;
}

/** Index of the `)` closing the `(` at `open`, or -1. */
function closing(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; ) {
    const past = skipQuoted(sql, i);
    if (past !== i) {
      i = past;
      continue;
    }
    if (sql[i] === '(') depth++;
    else if (sql[i] === ')' && --depth === 0) return i;
    i++;
  }
  return -1;
}

/** `sql` with everything inside parentheses and quotes blanked, so top-level searches see only the top level. */
function topLevel(sql: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < sql.length; ) {
    const past = skipQuoted(sql, i);
    if (past !== i) {
      out += ' '.repeat(past - i);
      i = past;
      continue;
    }
    const c = sql[i]!;
    if (c === '(') depth++;
    out += depth > 0 ? ' ' : c;
    if (c === ')') depth--;
    i++;
  }
  return out;
}

function groupConcat(args: string): string {
  let rest = args.trim();
  let sep = "','";
  const sepAt = /\s+separator\s+('(?:[^']|'')*')\s*$/i.exec(rest);
  if (sepAt && topLevel(rest).slice(sepAt.index).toLowerCase().includes('separator')) {
    sep = sepAt[1]!;
    rest = rest.slice(0, sepAt.index);
  }
  let order = '';
  const orderAt = /\s+order\s+by\s+/i.exec(topLevel(rest));
  if (orderAt) {
    order = ` ${rest.slice(orderAt.index).trim()}`;
    rest = rest.slice(0, orderAt.index);
  }
  const distinct = /^distinct\s+/i.exec(rest);
  if (distinct) rest = rest.slice(distinct[0].length);
  return `STRING_AGG(${distinct ? 'DISTINCT ' : ''}(${rest.trim()})::text, ${sep}${order})`;
}

/** The attribute name `arg` is (plain or double-quoted), or null when it is an expression. */
const attributeName = (arg: string): string | null => /^"?([A-Za-z_][A-Za-z0-9_]*)"?$/.exec(arg.trim())?.[1] ?? null;

/** The arguments of a call, split at its top-level commas. */
function argumentsOf(args: string): string[] {
  const top = topLevel(args);
  const out: string[] = [];
  let start = 0;
  for (let i = top.indexOf(','); i >= 0; i = top.indexOf(',', i + 1)) {
    out.push(args.slice(start, i).trim());
    start = i + 1;
  }
  out.push(args.slice(start).trim());
  return out;
}

/** Seconds in one of TIMESTAMPDIFF's units counted through the seconds between two times. */
const UNIT_SECONDS: Record<string, number> = { week: 604800, day: 86400, hour: 3600, minute: 60, second: 1, microsecond: 1e-6 };

function timestampDiff(args: string): string | null {
  const [unit, from, to, ...extra] = argumentsOf(args);
  if (!unit || !from || !to || extra.length) return null;
  const u = unit.toLowerCase();
  const age = `AGE((${to})::timestamp, (${from})::timestamp)`;
  const months = `(EXTRACT(YEAR FROM ${age}) * 12 + EXTRACT(MONTH FROM ${age}))`;
  if (u === 'year') return `EXTRACT(YEAR FROM ${age})::int`;
  if (u === 'month') return `${months}::int`;
  if (u === 'quarter') return `TRUNC(${months} / 3)::int`;
  const per = UNIT_SECONDS[u];
  if (per === undefined) return null;
  const seconds = `EXTRACT(EPOCH FROM ((${to})::timestamp - (${from})::timestamp))`;
  return `TRUNC(${seconds}${per === 1 ? '' : per < 1 ? ` * ${1 / per}` : ` / ${per}`})::bigint`;
}

function rewriteCall(name: string, args: string, booleans: ReadonlySet<string>): string | null {
  const ofBoolean = booleans.has(attributeName(args) ?? '');
  switch (name.toLowerCase()) {
    case 'group_concat':
      return groupConcat(args);
    case 'curdate':
      return args.trim() ? null : 'CURRENT_DATE';
    case 'year':
    case 'month':
    case 'day':
      return `EXTRACT(${name.toUpperCase()} FROM ${args.trim()})::int`;
    case 'sum':
    case 'avg':
      return COMPARISON.test(topLevel(args)) || ofBoolean ? `${name}((${args.trim()})::int)` : null;
    case 'min':
    case 'max':
      return ofBoolean ? `${name}((${args.trim()})::int)` : null;
    case 'std':
      return `STDDEV_POP(${args})`;
    case 'timestampdiff':
      return timestampDiff(args);
    case 'datediff': {
      const [a, b, ...extra] = argumentsOf(args);
      return a && b && !extra.length ? `((${a})::date - (${b})::date)` : null;
    }
    default:
      return null;
  }
}

/** `sql` with the MySQL functions above rewritten for PostgreSQL (nested calls included). */
export function rewriteMysqlFunctions(sql: string, booleans: ReadonlySet<string> = NONE): string {
  if (!MAY_CALL.test(sql)) return sql;
  let out = '';
  for (let i = 0; i < sql.length; ) {
    const past = skipQuoted(sql, i);
    if (past !== i) {
      out += sql.slice(i, past);
      i = past;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i));
    const prev = i > 0 ? sql[i - 1]! : '';
    if (word && !/[A-Za-z0-9_.$]/.test(prev) && FUNCTION.test(word[0])) {
      const open = sql.slice(i + word[0].length).search(/\S/) + i + word[0].length;
      const close = sql[open] === '(' ? closing(sql, open) : -1;
      if (close > 0) {
        const args = rewriteMysqlFunctions(sql.slice(open + 1, close), booleans);
        const call = rewriteCall(word[0], args, booleans);
        out += call ?? `${word[0]}(${args})`;
        i = close + 1;
        continue;
      }
    }
    const step = word ? word[0].length : 1;
    out += sql.slice(i, i + step);
    i += step;
  }
  return out;
}

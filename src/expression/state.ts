/**
 * The compiled form of a query expression: everything needed to emit its SELECT, and to decide
 * whether an operator can extend it in place or must wrap it as a subquery.
 */
import type { Dialect } from '../connection/adapter.js';
import type { Heading } from '../heading/heading.js';

export interface TopSpec {
  limit: number | null;
  offset: number;
  /** ORDER BY items (already SQL text, e.g. "`score` DESC"). */
  orderBy: string[];
}

export interface State {
  heading: Heading;
  /** FROM clause body: a table name, joins, or "(subquery) AS `alias`". */
  from: string;
  where: string[];
  /** GROUP BY columns for aggregation (then `where` on aggregates goes to HAVING). */
  groupBy: string[] | null;
  having: string[];
  distinct: boolean;
  top: TopSpec | null;
  /** For a plain table: its database and name (delete/update/insert work on it). */
  table?: { database: string; name: string };
}

let aliasCounter = 0;
export function nextAlias(): string {
  aliasCounter = (aliasCounter + 1) % 1_000_000_000;
  return `$${aliasCounter.toString(36)}`;
}

/** SQL text of a column of the state: its expression if computed, else its name. */
export function columnSql(state: State, name: string, dialect: Dialect): string {
  const a = state.heading.get(name);
  if (a?.expression) return `(${a.expression})`;
  return dialect.quoteId(name);
}

/** Field list for SELECT of the given attributes. */
export function fieldList(state: State, names: readonly string[], dialect: Dialect): string {
  if (names.length === 0) return '1';
  return names
    .map((n) => {
      const a = state.heading.get(n);
      return a?.expression ? `${a.expression} AS ${dialect.quoteId(n)}` : dialect.quoteId(n);
    })
    .join(',');
}

/** Full SELECT statement of a state for the given attributes (default: all visible). */
export function selectSql(state: State, dialect: Dialect, names?: readonly string[], extra?: { orderBy?: string[]; limit?: number | null; offset?: number }): string {
  const attrs = names ?? state.heading.names;
  let sql = `SELECT ${state.distinct ? 'DISTINCT ' : ''}${fieldList(state, attrs, dialect)} FROM ${state.from}`;
  if (state.where.length) sql += ` WHERE ${state.where.join(' AND ')}`;
  if (state.groupBy) {
    sql += ` GROUP BY ${state.groupBy.join(',')}`;
    if (state.having.length) sql += ` HAVING ${state.having.join(' AND ')}`;
  }
  const orderBy = extra?.orderBy ?? state.top?.orderBy ?? [];
  const limit = extra?.limit !== undefined ? extra.limit : state.top ? state.top.limit : null;
  const offset = extra?.offset ?? state.top?.offset ?? 0;
  if (orderBy.length) sql += ` ORDER BY ${orderBy.join(',')}`;
  sql += dialect.limitClause(limit, offset);
  return sql;
}

/** Wrap a state as a derived table so further operators see plain columns. */
export function asSubquery(state: State, dialect: Dialect): State {
  const names = state.heading.all.filter((a) => !a.isHidden || !a.expression).map((a) => a.name);
  const inner = selectSql(state, dialect, names);
  return {
    heading: state.heading.with(state.heading.all.map((a) => ({ ...a, expression: null }))),
    from: `(${inner}) AS ${dialect.quoteId(nextAlias())}`,
    where: [],
    groupBy: null,
    having: [],
    distinct: false,
    top: null,
  };
}

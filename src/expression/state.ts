/**
 * The compiled form of a query expression: everything needed to emit its SELECT, and to decide
 * whether an operator can extend it in place or must wrap it as a subquery.
 *
 * Column references in `where`, `having`, `groupBy` and in computed attributes' expressions
 * are SQL text over the columns of `from`, referenced by bare name; operators keep those names
 * unambiguous (see join.ts) or wrap a state as a derived table (asSubquery) when they cannot.
 */
import type { Dialect } from '../adapters/adapter.js';
import type { Heading } from '../heading/heading.js';

export interface TopSpec {
  limit: number | null;
  offset: number;
  /**
   * ORDER BY items as normalized text: `name`, `name DESC` (KEY already expanded) or any SQL
   * expression. Rendered against the heading at SELECT time (see orderSql).
   */
  orderBy: string[];
  /**
   * Attributes of the ordering that could be NULL when it was set. One projected away since
   * is still in the FROM clause and still sorts its NULLs as the smallest values (orderSql).
   */
  nullable?: readonly string[];
}

export interface State {
  heading: Heading;
  /** FROM clause body: a table name, joins, or "(subquery) AS `alias`". */
  from: string;
  where: string[];
  /** GROUP BY column SQL for aggregation; [] means one group (dj.U().aggr). */
  groupBy: string[] | null;
  /** Restrictions of a grouped state (applied after grouping). */
  having: string[];
  distinct: boolean;
  top: TopSpec | null;
  /** For a plain table: its database and name (delete/update/insert work on it). */
  table?: { database: string; name: string };
  /**
   * Column names addressable by bare name in `from` (a table's columns, a subquery's select
   * list). Defaults to every attribute of the heading, hidden ones included.
   */
  fromColumns?: readonly string[];
  /** `from` is a chain of joins (needs parentheses on the right of another JOIN). */
  isJoin?: boolean;
}

let aliasCounter = 0;
export function nextAlias(): string {
  aliasCounter = (aliasCounter + 1) % 1_000_000_000;
  return `$${aliasCounter.toString(36)}`;
}

export function fromColumnsOf(state: State): readonly string[] {
  return state.fromColumns ?? state.heading.all.map((a) => a.name);
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
      if (a?.expression) return `${a.expression} AS ${dialect.quoteId(n)}`;
      const column = dialect.quoteId(n);
      const fetched = a ? dialect.fetchColumn(column, a.type) : column;
      return fetched === column ? column : `${fetched} AS ${column}`;
    })
    .join(',');
}

/** An attribute name, bare or quoted (either dialect's quotes), with an optional direction. */
const ORDER_ITEM = /^[`"]?([A-Za-z_][A-Za-z0-9_]*)[`"]?(?:\s+(ASC|DESC))?$/i;

/** The attribute an ordering item names, or null for any other SQL expression. */
export function orderAttribute(item: string): string | null {
  return ORDER_ITEM.exec(item.trim())?.[1] ?? null;
}

/**
 * ORDER BY SQL for normalized items; attribute names become their column SQL. NULLs of a
 * nullable attribute sort as the smallest values on every backend (the same rows for the same
 * top on MySQL and PostgreSQL); other attributes keep the bare form an index can serve.
 */
export function orderSql(items: readonly string[], state: State, dialect: Dialect): string[] {
  return items.map((item) => {
    const m = ORDER_ITEM.exec(item.trim());
    if (!m) return item;
    const direction = m[2]?.toUpperCase();
    const attr = state.heading.get(m[1]!);
    const nullable = attr ? attr.nullable : (state.top?.nullable?.includes(m[1]!) ?? false);
    const nulls = nullable ? dialect.nullsSmallest(direction === 'DESC') : '';
    return attr ? `${columnSql(state, m[1]!, dialect)}${direction ? ` ${direction}` : ''}${nulls}` : `${item}${nulls}`;
  });
}

/**
 * An ordering that limits rows, completed with the primary key: rows the given order ties
 * would otherwise come in whatever order the server picks (another on MySQL than on
 * PostgreSQL), and pages of one ordering (offsets) could repeat or skip them.
 */
function withKeyTieBreak(items: readonly string[], state: State): readonly string[] {
  if (!items.length) return items;
  const named = new Set(items.map(orderAttribute));
  const missing = state.heading.primaryKey.filter((k) => !named.has(k));
  return missing.length ? [...items, ...missing] : items;
}

/** Whether the top of a state limits rows (as opposed to only ordering them). */
export function isLimiting(top: TopSpec | null): boolean {
  return top !== null && (top.limit !== null || top.offset > 0);
}

/**
 * Full SELECT statement of a state for the given attributes (default: all visible).
 * A grouped state whose HAVING may name aggregate aliases is selected whole first when only
 * some attributes are wanted, so the aliases exist where HAVING refers to them.
 */
export function selectSql(state: State, dialect: Dialect, names?: readonly string[]): string {
  const attrs = names ?? state.heading.names;
  if (state.groupBy && state.having.length && names && !sameNames(names, state.heading.names)) {
    const inner = asSubquery(state, dialect);
    return selectSql(inner, dialect, names);
  }
  let sql = `SELECT ${state.distinct ? 'DISTINCT ' : ''}${fieldList(state, attrs, dialect)} FROM ${state.from}`;
  if (state.where.length) sql += ` WHERE ${state.where.join(' AND ')}`;
  if (state.groupBy) {
    if (state.groupBy.length) sql += ` GROUP BY ${state.groupBy.join(',')}`;
    if (state.having.length) sql += ` HAVING ${state.having.join(' AND ')}`;
  }
  if (state.top) {
    const order = isLimiting(state.top) ? withKeyTieBreak(state.top.orderBy, state) : state.top.orderBy;
    if (order.length) sql += ` ORDER BY ${orderSql(order, state, dialect).join(',')}`;
    sql += dialect.limitClause(state.top.limit, state.top.offset);
  }
  return sql;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/**
 * Wrap a state as a derived table so further operators see plain columns. Hidden attributes
 * still in the heading pass through. An ordering-only Top is kept outside, so a restriction
 * after `top(null, 'x DESC')` keeps the order.
 */
export function asSubquery(state: State, dialect: Dialect): State {
  const attrs = state.heading.all;
  const names = attrs.map((a) => a.name);
  const orderOnly = state.top !== null && !isLimiting(state.top);
  const inner = selectSql(orderOnly ? { ...state, top: null } : state, dialect, names);
  const top = state.top && state.top.orderBy.length && state.top.orderBy.every((i) => {
    const name = orderAttribute(i);
    return name !== null && state.heading.has(name);
  })
    ? { limit: null, offset: 0, orderBy: state.top.orderBy }
    : null;
  return {
    heading: state.heading.with(attrs.map((a) => (a.expression ? { ...a, expression: null } : a))),
    from: `(${inner}) AS ${dialect.quoteId(nextAlias())}`,
    where: [],
    groupBy: null,
    having: [],
    distinct: false,
    top,
    fromColumns: names,
  };
}

/** A state to which WHERE conditions and further columns can be added without changing its meaning. */
export function isSimple(state: State): boolean {
  return !state.groupBy && !state.distinct && !isLimiting(state.top);
}

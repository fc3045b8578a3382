/**
 * Join (spec: query-algebra §4, primary keys): match on visible namesakes (homologous ones
 * under the semantic check), result primary key from the functional dependencies between the
 * operands, inner or left. Emitted as `A JOIN B USING (shared)`, so the shared columns are
 * coalesced and every other column name must be unambiguous across the two FROMs; operands
 * that cannot meet that become subqueries.
 */
import { DataJointError } from '../errors.js';
import type { Dialect } from '../adapters/adapter.js';
import type { Attribute, Heading } from '../heading/heading.js';
import { assertHomologous, identifiers } from './condition.js';
import { asSubquery, fromColumnsOf, isLimiting, type State } from './state.js';

export interface JoinOptions {
  /** LEFT JOIN: keep every row of the left operand (requires A → B). */
  left?: boolean;
  /** Match only homologous namesakes (same lineage); default true. */
  semanticCheck?: boolean;
  /** Let a left join proceed when A does not determine B (primary key becomes PK(A) ∪ PK(B)). */
  allowNullablePk?: boolean;
}

/** A → B: every attribute of B's primary key is an attribute of A. */
export function determines(a: Heading, b: Heading): boolean {
  const names = new Set(a.names);
  return b.primaryKey.every((k) => names.has(k));
}

/**
 * Heading of A ⋈ B by the primary-key rules: A → B gives PK(A) with A's attributes first;
 * B → A (only) gives PK(B) with B's first; neither gives PK(A) ∪ PK(B), PK(A) first.
 */
export function joinHeading(a: Heading, b: Heading, opts: { left: boolean; allowNullablePk: boolean }, what = 'Left join'): Heading {
  const aDetB = determines(a, b);
  const bDetA = determines(b, a);
  if (opts.left && !aDetB && !opts.allowNullablePk) {
    const aNames = new Set(a.names);
    const missing = b.primaryKey.filter((k) => !aNames.has(k));
    throw new DataJointError(
      `${what} requires the left operand to determine the right operand (A → B).\n` +
        `The following attributes from the right operand's primary key are not determined by the left operand: [${missing.map((m) => `'${m}'`).join(', ')}]. ` +
        'Use an inner join or restructure the query.',
    );
  }
  let first = a;
  let second = b;
  let pk: string[];
  if (aDetB) pk = a.primaryKey;
  else if (bDetA && !opts.left) {
    first = b;
    second = a;
    pk = b.primaryKey;
  } else pk = [...a.primaryKey, ...b.primaryKey.filter((k) => !a.primaryKey.includes(k))];
  const pkSet = new Set(pk);
  const pick = (n: string): Attribute => (first.has(n) && !first.get(n)!.isHidden ? first.get(n)! : second.get(n)!);
  // Attributes of the right operand of a left join are NULL where nothing matches.
  const nullable = (attr: Attribute, fromRight: boolean): Attribute =>
    opts.left && fromRight && !attr.nullable ? { ...attr, nullable: true } : attr;
  const out: Attribute[] = [];
  const seen = new Set<string>();
  const push = (attr: Attribute, inKey: boolean, fromRight: boolean) => {
    if (seen.has(attr.name)) return;
    seen.add(attr.name);
    out.push(nullable(attr.inKey === inKey ? attr : { ...attr, inKey }, fromRight && !pkSet.has(attr.name)));
  };
  for (const n of pk) push(pick(n), true, !a.has(n));
  for (const attr of first.visible) if (!pkSet.has(attr.name)) push(attr, false, first === b);
  for (const attr of second.visible) if (!pkSet.has(attr.name)) push(attr, false, second === b);
  return a.with(out, a.lineageAvailable && b.lineageAvailable);
}

/** Visible attribute names shared by two headings, in the left operand's order. */
export function sharedNames(a: Heading, b: Heading): string[] {
  const bn = new Set(b.names);
  return a.names.filter((n) => bn.has(n));
}

/** Whether a state can take part in a join as is (no grouping, DISTINCT or row limit). */
function joinable(s: State): boolean {
  return !s.groupBy && !s.distinct && !isLimiting(s.top);
}

/** Whether a FROM is a join chain (rather than one table or one derived table). */
function isChain(s: State): boolean {
  return s.isJoin === true;
}

/** FROM text of an operand placed right of a JOIN (a join chain needs parentheses). */
function rightFrom(s: State): string {
  return isChain(s) ? `(${s.from})` : s.from;
}

/**
 * Whether a column present in both FROMs, other than the join columns, is named by the joined
 * query: by its select list (the operands' visible attributes), a computed attribute's
 * expression, or a WHERE condition. Unreferenced namesakes (e.g. hidden job metadata in two
 * computed tables) do no harm.
 */
function referencesClash(a: State, b: State, shared: readonly string[], dialect: Dialect): boolean {
  const sharedSet = new Set(shared);
  const colsA = new Set(fromColumnsOf(a));
  const clash = fromColumnsOf(b).filter((c) => colsA.has(c) && !sharedSet.has(c));
  if (!clash.length) return false;
  const named = new Set<string>([...a.heading.names, ...b.heading.names]);
  for (const s of [a, b]) {
    for (const w of s.where) for (const id of identifiers(w, dialect)) named.add(id);
    for (const x of s.heading.all) if (x.expression) for (const id of identifiers(x.expression, dialect)) named.add(id);
  }
  return clash.some((c) => named.has(c));
}

/** Join two compiled states. */
export function joinStates(a: State, b: State, opts: JoinOptions, dialect: Dialect, what?: string): State {
  const left = opts.left ?? false;
  const shared = sharedNames(a.heading, b.heading);
  if (opts.semanticCheck ?? true) assertHomologous(a.heading, b.heading, shared, 'join');
  const pkOpts = { left, allowNullablePk: opts.allowNullablePk ?? false };
  joinHeading(a.heading, b.heading, pkOpts, what); // validates before any SQL is built

  // Operand ordering only matters inside a limit; a join's result has no order.
  if (a.top && !isLimiting(a.top)) a = { ...a, top: null };
  if (b.top && !isLimiting(b.top)) b = { ...b, top: null };
  let subA = !joinable(a) || shared.some((n) => a.heading.get(n)!.expression !== null);
  let subB = !joinable(b) || shared.some((n) => b.heading.get(n)!.expression !== null);
  // A left join must apply the right operand's restrictions and expressions before matching.
  if (left) subB ||= b.where.length > 0 || b.heading.all.some((x) => x.expression !== null) || isChain(b);
  // A column in both FROMs that is not a join column is ambiguous wherever the query names it.
  if ((!subA || !subB) && referencesClash(a, b, shared, dialect)) subA = subB = true;
  if (subA) a = asSubquery(a, dialect);
  if (subB) b = asSubquery(b, dialect);
  const heading = joinHeading(a.heading, b.heading, pkOpts, what);

  const q = (n: string) => dialect.quoteId(n);
  let from: string;
  if (shared.length) from = `${a.from} ${left ? 'LEFT JOIN' : 'JOIN'} ${rightFrom(b)} USING (${shared.map(q).join(',')})`;
  else from = left ? `${a.from} LEFT JOIN ${rightFrom(b)} ON TRUE` : `${a.from} CROSS JOIN ${rightFrom(b)}`;
  const fromColumns = [...new Set([...fromColumnsOf(a), ...fromColumnsOf(b)])];
  return {
    heading,
    from,
    where: [...a.where, ...b.where],
    groupBy: null,
    having: [],
    distinct: false,
    top: null,
    fromColumns,
    isJoin: true,
  };
}

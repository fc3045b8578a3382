/**
 * Aggregation (spec: query-algebra §5, primary keys, "Aggregation exception"):
 * `A.aggr(B, ...)` groups A ⋈ B by A's primary key; A LEFT JOIN B by default so every row of
 * A stays, an inner join with excludeNonmatching. Restrictions of A go to WHERE (they are in
 * A's state); restrictions of the result go to HAVING (restrict.ts). B is always a subquery.
 * `dj.U(...).aggr(B, ...)` groups B by arbitrary attributes (universal.ts).
 */
import { DataJointError } from '../errors.js';
import type { Dialect } from '../adapters/adapter.js';
import type { Attribute, Heading } from '../heading/heading.js';
import { assertHomologous } from './condition.js';
import { sharedNames } from './join.js';
import { projectHeading, type ProjSpec } from './proj.js';
import { asSubquery, fromColumnsOf, isSimple, type State } from './state.js';

export interface AggrOptions {
  /** Keep only rows of A that have matches in B (inner join); default false. */
  excludeNonmatching?: boolean;
  /** Match only homologous namesakes; default true. */
  semanticCheck?: boolean;
}

/**
 * GROUP BY items: the source column of every selected attribute that is not an aggregate.
 * Grouping by A's secondary attributes too (they are functions of its primary key) keeps the
 * query valid under ONLY_FULL_GROUP_BY (MySQL 8's default) without changing the groups.
 */
function groupColumns(attrs: readonly Attribute[], aggregates: ReadonlySet<string>, dialect: Dialect): string[] {
  const out: string[] = [];
  for (const a of attrs) {
    if (aggregates.has(a.name)) continue;
    const sql = a.expression ?? dialect.quoteId(a.name);
    if (!out.includes(sql)) out.push(sql);
  }
  return out;
}

function mergedHeading(a: Heading, b: Heading): Heading {
  const names = new Set(a.names);
  return a.with([...a.visible, ...b.visible.filter((x) => !names.has(x.name))]);
}

export function aggrStates(a: State, b: State, spec: ProjSpec, opts: AggrOptions, dialect: Dialect): State {
  const left = !(opts.excludeNonmatching ?? false);
  const bNames = new Set(b.heading.names);
  const missing = a.heading.primaryKey.filter((k) => !bNames.has(k));
  if (missing.length)
    throw new DataJointError(
      `Aggregation requires the aggregated expression to contain the primary key of the grouping expression; missing: [${missing.map((m) => `'${m}'`).join(', ')}]`,
    );
  const shared = sharedNames(a.heading, b.heading);
  if (opts.semanticCheck ?? true) assertHomologous(a.heading, b.heading, shared, 'join');

  // GROUP BY needs A's columns as plain columns of the FROM.
  let subA = !isSimple(a) || a.heading.all.some((x) => x.expression !== null);
  const sb = asSubquery(b, dialect);
  // Columns of A's FROM outside its heading (projected away) must not clash with B's.
  const sharedSet = new Set(shared);
  const colsB = new Set(fromColumnsOf(sb));
  subA ||= fromColumnsOf(a).some((c) => colsB.has(c) && !sharedSet.has(c) && !a.heading.get(c)?.isHidden);
  if (subA) a = asSubquery(a, dialect);
  else if (a.top) a = { ...a, top: null };

  const { attrs, classified } = projectHeading(a.heading, spec, dialect, mergedHeading(a.heading, sb.heading));
  const aggregates = new Set(classified.computed.keys());
  const q = (n: string) => dialect.quoteId(n);
  const join = left ? 'LEFT JOIN' : 'JOIN';
  const from = shared.length
    ? `${a.from} ${join} ${sb.from} USING (${shared.map(q).join(',')})`
    : left
      ? `${a.from} LEFT JOIN ${sb.from} ON TRUE`
      : `${a.from} CROSS JOIN ${sb.from}`;
  return {
    heading: a.heading.with(attrs, a.heading.lineageAvailable && b.heading.lineageAvailable),
    from,
    where: [...a.where],
    groupBy: groupColumns(attrs, aggregates, dialect),
    having: [],
    distinct: false,
    top: null,
    fromColumns: [...new Set([...fromColumnsOf(a), ...fromColumnsOf(sb)])],
    isJoin: true,
  };
}

/** `dj.U(...attrs).aggr(B, ...)`: group B by the given attributes (none: one group). */
export function universalAggrState(uAttrs: readonly string[], b: State, spec: ProjSpec, dialect: Dialect): State {
  for (const n of uAttrs)
    if (!b.heading.names.includes(n)) throw new DataJointError(`Attribute \`${n}\` of dj.U is not in the aggregated expression (${b.heading.names.join(', ')})`);
  const sb = asSubquery(b, dialect);
  const uHeading = sb.heading.with(uAttrs.map((n) => ({ ...sb.heading.get(n)!, inKey: true, nullable: false })));
  for (const x of spec.attributes)
    if (x !== '*' && x !== '...' && !uAttrs.includes(x.replace(/^-/, ''))) throw new DataJointError(`dj.U(...).aggr can only select its own attributes; \`${x}\` is not one of them`);
  const { attrs, classified } = projectHeading(uHeading, spec, dialect, sb.heading);
  return {
    heading: sb.heading.with(attrs),
    from: sb.from,
    where: [],
    groupBy: groupColumns(attrs, new Set(classified.computed.keys()), dialect),
    having: [],
    distinct: false,
    top: null,
    fromColumns: fromColumnsOf(sb),
  };
}

/** `dj.U(...attrs).restrict(A)`: the distinct values of the attributes in A, as primary key. */
export function universalRestrictState(uAttrs: readonly string[], a: State, dialect: Dialect): State {
  for (const n of uAttrs)
    if (!a.heading.names.includes(n)) throw new DataJointError(`Attribute \`${n}\` of dj.U is not in the restricting expression (${a.heading.names.join(', ')})`);
  if (a.groupBy || (a.top && (a.top.limit !== null || a.top.offset > 0))) a = asSubquery(a, dialect);
  return {
    ...a,
    heading: a.heading.with(uAttrs.map((n) => ({ ...a.heading.get(n)!, inKey: true }))),
    distinct: true,
    top: null,
    table: undefined,
    fromColumns: fromColumnsOf(a),
  };
}

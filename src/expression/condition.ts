/**
 * Restriction conditions → SQL (spec: query algebra, restriction).
 * A condition is: SQL string; plain object (AND of equalities); query expression or table
 * class (semijoin on homologous namesakes); array or Set (OR); boolean; dj.not(c); an Arrow table
 * (OR of its rows). dj.top is handled by the restriction itself (restrict.ts), not here.
 */
import { DataJointError, UnknownAttributeError } from '../errors.js';
import type { Dialect } from '../adapters/adapter.js';
import type { Heading } from '../heading/heading.js';
import { encodeScalar } from '../fetch/convert.js';
import { Top } from './top.js';
import { asSubquery, isLimiting, type State } from './state.js';
import { type JsonPath, jsonIsNullSql, jsonPathSql, parseJsonPath } from './json-path.js';
import { arrowRows, isArrowTable } from './arrow-rows.js';

/** Negation wrapper: `dj.not(cond)`. */
export class Not {
  constructor(readonly condition: unknown) {}
}

export function not(condition: unknown): Not {
  return new Not(condition);
}

/** Something that compiles to a subquery for semijoins (implemented by QueryExpression). */
export interface SubqueryOperand {
  readonly isQueryExpression: true;
  compileState(): Promise<State>;
}

export function isSubqueryOperand(x: unknown): x is SubqueryOperand {
  return typeof x === 'object' && x !== null && (x as { isQueryExpression?: unknown }).isQueryExpression === true;
}

/** dj.U(...) marks itself so conditions recognize it without importing it (no cycle). */
export function isUniversalSet(x: unknown): boolean {
  return typeof x === 'object' && x !== null && (x as { isUniversalSet?: unknown }).isUniversalSet === true;
}

export interface ConditionContext {
  heading: Heading;
  dialect: Dialect;
  semanticCheck: boolean;
  /** Turn a table class / expression-like into a SubqueryOperand, or null. */
  toOperand(x: unknown): SubqueryOperand | null;
  /** SELECT text of a state restricted to the given attributes. */
  selectSql(state: State, attributes: string[]): string;
  /** Column reference in the current FROM (a computed attribute's expression or its quoted name). */
  column(name: string): string;
  /** Attributes of the heading that the compiled conditions refer to (filled while compiling). */
  used: Set<string>;
  /** Set while compiling when a query matched against may hold NULL in a matched attribute. */
  nullable?: boolean;
  /** Whether `name` is a column still in the FROM clause that the query's heading no longer has (projected away). */
  projectedAway?(name: string): boolean;
}

/** Compile one condition to an SQL boolean expression. `'TRUE'`/`'FALSE'` for trivial ones. */
export async function compileCondition(cond: unknown, ctx: ConditionContext, negate = false): Promise<string> {
  if (cond instanceof Not) {
    if (cond.condition instanceof Top) throw new DataJointError('dj.top can only be used with restriction, not with anti-restriction (minus or dj.not)');
    return compileCondition(cond.condition, ctx, !negate);
  }
  const wrap = (sql: string) => (negate ? `NOT (${sql})` : sql);

  if (cond === true || cond === false) return cond !== negate ? 'TRUE' : 'FALSE';
  if (cond === null || cond === undefined) throw new DataJointError('A restriction cannot be null or undefined');
  if (cond instanceof Top) throw new DataJointError('dj.top cannot be combined with other conditions in an array (OR list); restrict by it separately');
  if (typeof cond === 'string') {
    if (!cond.trim()) throw new DataJointError('A restriction string cannot be empty');
    for (const id of identifiers(cond, ctx.dialect)) {
      if (ctx.heading.has(id)) ctx.used.add(id);
      // SQL would still find it in the FROM clause; the query has no such attribute (spec §2.11).
      else if (ctx.projectedAway?.(id) && !new RegExp(`\\b${id}\\s*\\(`).test(cond))
        throw new UnknownAttributeError(`Attribute \`${id}\` is not in the query (${ctx.heading.names.join(', ')}): it was projected away or renamed. Restrict before projecting, or keep it in the projection.`);
    }
    return wrap(`(${ctx.dialect.userSql(cond, ctx.heading.booleanNames)})`);
  }
  if (Array.isArray(cond) || cond instanceof Set) return matching(ctx, negate, (c) => compileOr([...cond], c));
  if (isUniversalSet(cond)) return negate ? 'FALSE' : 'TRUE'; // the universal set contains every row
  const operand = ctx.toOperand(cond);
  if (operand) return matching(ctx, negate, (c) => semijoin(operand, c));
  if (isArrowTable(cond)) return matching(ctx, negate, (c) => compileOr(arrowRows(cond), c));
  if (isPlainObject(cond)) {
    const sql = await matching(ctx, negate, (c) => dictCondition(cond, c));
    return sql === 'NOT (TRUE)' ? 'FALSE' : sql;
  }
  throw new DataJointError(`Invalid restriction of type ${typeof cond === 'object' ? cond.constructor?.name : typeof cond}`);
}

/**
 * A condition that matches rows to values or to another query's rows (an object, a list, a
 * query). Negated (`minus`, `dj.not`), a row whose attribute is NULL, or one compared with a
 * query holding NULLs, matches nothing and is kept, as the spec's `A - B` ("the rows of A that
 * match nothing in B") says; SQL's NOT would drop it (a NULL comparison is unknown, not false),
 * as DataJoint Python's NOT IN does. Without nullable attributes the SQL is the plain NOT, which
 * the servers plan as an anti-join.
 */
async function matching(ctx: ConditionContext, negate: boolean, compile: (c: ConditionContext) => Promise<string> | string): Promise<string> {
  if (!negate) return compile(ctx);
  const c: ConditionContext = { ...ctx, used: new Set(), nullable: false };
  const sql = await compile(c);
  for (const n of c.used) ctx.used.add(n);
  const nullable = c.nullable || [...c.used].some((n) => ctx.heading.get(n)?.nullable);
  return nullable && sql !== 'TRUE' && sql !== 'FALSE' ? `NOT ((${sql}) IS TRUE)` : `NOT (${sql})`;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && (x.constructor === Object || Object.getPrototypeOf(x) === null);
}

/**
 * OR of the elements; an empty list restricts to nothing. Objects with the same keys and the
 * same NULL keys are one group, compiled as one tuple IN (plus `IS NULL`s): a list of thousands
 * of keys is a handful of predicates, never thousands of ORs (slow to plan, and on PostgreSQL
 * JIT-compiled for minutes).
 */
async function compileOr(items: readonly unknown[], ctx: ConditionContext): Promise<string> {
  if (items.length === 0) return 'FALSE';
  // Each part is compiled SQL or a group of objects, in the order of its first element.
  const slots: Array<Promise<string> | KeyGroup> = [];
  const groups = new Map<string, KeyGroup>();
  for (const item of items) {
    const group = groupOf(item, ctx);
    if (!group) {
      slots.push(compileCondition(item, ctx));
      continue;
    }
    const found = groups.get(group.signature);
    if (found) found.items.push(item as Record<string, unknown>);
    else {
      groups.set(group.signature, group);
      slots.push(group);
    }
  }
  const parts = await Promise.all(slots.map((s) => (s instanceof Promise ? s : groupCondition(s, ctx))));
  if (parts.includes('TRUE')) return 'TRUE';
  const kept = parts.filter((p) => p !== 'FALSE');
  if (kept.length === 0) return 'FALSE';
  return kept.length === 1 ? kept[0]! : `(${kept.join(' OR ')})`;
}

/** Objects of an OR list that restrict the same attributes to values (`keys`) and to NULL (`nulls`). */
interface KeyGroup {
  signature: string;
  keys: string[];
  nulls: string[];
  items: Array<Record<string, unknown>>;
}

/** The group of an OR list's element, or null for an element compiled on its own. */
function groupOf(item: unknown, ctx: ConditionContext): KeyGroup | null {
  if (!isPlainObject(item)) return null;
  const names = Object.keys(item);
  // JSON paths are compared one by one (dictCondition); an object of no attribute warns there.
  if (names.some((k) => !ctx.heading.has(k) && parseJsonPath(k))) return null;
  const own = names.filter((k) => ctx.heading.has(k));
  if (own.length === 0) return null;
  const isNull = (k: string) => item[k] === null || item[k] === undefined;
  const keys = own.filter((k) => !isNull(k));
  const nulls = own.filter(isNull);
  const signature = JSON.stringify([[...keys].sort(), [...nulls].sort()]);
  return { signature, keys, nulls, items: [item] };
}

function groupCondition(g: KeyGroup, ctx: ConditionContext): string {
  if (g.items.length === 1 || g.keys.length === 0) return dictCondition(g.items[0]!, ctx);
  for (const k of g.nulls) ctx.used.add(k);
  return [tupleIn(g.keys, g.items, ctx), ...g.nulls.map((k) => `${ctx.column(k)} IS NULL`)].join(' AND ');
}

/** Literal of a value for an attribute, validated by its type. */
function literalFor(ctx: ConditionContext, name: string, v: unknown): string {
  const a = ctx.heading.get(name)!;
  if (a.codec) throw new DataJointError(`Cannot restrict by codec attribute \`${name}\``);
  return ctx.dialect.literal(ctx.dialect.bindValue(a.kind, encodeScalar({ ...a, nullable: true }, v)));
}

/** Warnings already given (one per distinct case and process, not one per row of a list). */
const warned = new Set<string>();

/**
 * A dict none of whose keys is an attribute restricts nothing: usually a typo or the wrong
 * table, and before a delete it means "everything". Say so (once per case).
 */
function warnUnmatched(keys: string[], heading: Heading): void {
  const message = `Restriction by {${keys.join(', ')}}: none of its keys is an attribute of the query (${heading.names.join(', ')}), so it restricts nothing.`;
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message, { type: 'DataJointWarning' });
}

/**
 * AND of equalities on the object's keys that are in the heading (others are ignored, as in
 * DataJoint). A key `attr.path[0]` (with an optional `:type`) compares a value inside a json
 * attribute, as DataJoint Python does.
 */
function dictCondition(cond: Record<string, unknown>, ctx: ConditionContext): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(cond)) {
    if (ctx.heading.has(k)) {
      ctx.used.add(k);
      const col = ctx.column(k);
      parts.push(v === null || v === undefined ? `${col} IS NULL` : `${col}=${literalFor(ctx, k, v)}`);
      continue;
    }
    const p = parseJsonPath(k);
    if (!p || !ctx.heading.has(p.attr)) continue;
    ctx.used.add(p.attr);
    ctx.nullable = true; // a path may be missing in a row's json: its value is NULL there
    parts.push(jsonCondition(p, v, ctx));
  }
  if (parts.length) return parts.join(' AND ');
  const keys = Object.keys(cond);
  if (keys.length) warnUnmatched(keys, ctx.heading);
  return 'TRUE';
}

/** A value inside a json attribute equals `v` (compared as a number, text or boolean by its type). */
function jsonCondition(p: JsonPath, v: unknown, ctx: ConditionContext): string {
  const d = ctx.dialect;
  const typed = (type: string) => jsonPathSql({ ...p, type: p.type ?? type }, ctx.heading, ctx.column, d);
  if (v === null || v === undefined) return jsonIsNullSql(p, ctx.heading, ctx.column, d);
  if (typeof v === 'number' || typeof v === 'bigint') return `${typed('number')}=${d.literal(v)}`;
  // A boolean is compared as one whatever the path's cast says (`'car.inspected:unsigned': true`
  // matches JSON true and 1, as MySQL's TRUE = 1 does).
  if (typeof v === 'boolean') return `${jsonPathSql({ ...p, type: 'bool' }, ctx.heading, ctx.column, d)}=${d.literal(v)}`;
  if (typeof v === 'string') return `${jsonPathSql(p, ctx.heading, ctx.column, d)}=${d.literal(v)}`;
  throw new DataJointError(`Restriction by JSON path ${p.attr}.${p.path.join('.')}: compare with a number, string, boolean or null (got ${typeof v === 'object' ? v.constructor?.name : typeof v})`);
}

/**
 * Objects (two or more) restricting `keys` to values, as `(a,b) IN ((1,2),(3,4))`: one indexable
 * predicate instead of thousands of ORs. Many rows of several columns take the dialect's form
 * for long lists where it has one (PostgreSQL: `IN (VALUES …)`).
 */
function tupleIn(keys: readonly string[], items: ReadonlyArray<Record<string, unknown>>, ctx: ConditionContext): string {
  const rows = items.map((it) => keys.map((k) => literalFor(ctx, k, it[k])));
  for (const k of keys) ctx.used.add(k);
  const cols = keys.map((k) => ctx.column(k));
  const many = ctx.dialect.manyRowsIn(
    keys.map((k, i) => {
      const a = ctx.heading.get(k)!;
      return { sql: cols[i]!, kind: a.expression === null && a.kind !== 'other' ? a.kind : null };
    }),
    rows,
  );
  if (many) return many;
  if (cols.length === 1) return `${cols[0]} IN (${rows.map((r) => r[0]).join(',')})`;
  return `(${cols.join(',')}) IN (${rows.map((r) => `(${r.join(',')})`).join(',')})`;
}

/** Lineage check of namesakes; throws DataJointError naming the first non-homologous one. */
export function assertHomologous(h1: Heading, h2: Heading, names: readonly string[], verb: 'join' | 'restrict'): void {
  if (!h1.lineageAvailable || !h2.lineageAvailable) {
    if (names.length)
      process.emitWarning('Semantic check disabled: ~lineage table not found.\nTo enable semantic matching, rebuild lineage with: schema.rebuildLineage()', {
        type: 'DataJointWarning',
      });
    return;
  }
  for (const n of names) {
    const l1 = h1.get(n)!.lineage;
    const l2 = h2.get(n)!.lineage;
    if (l1 === null || l2 === null || l1 !== l2)
      throw new DataJointError(
        `Cannot ${verb} on attribute \`${n}\`: different lineages (${l1 ?? 'None'} vs ${l2 ?? 'None'}). Use .proj() to rename one of the attributes` +
          (verb === 'restrict' ? ' or restrict(..., { semanticCheck: false }).' : '.'),
      );
  }
}

async function semijoin(operand: SubqueryOperand, ctx: ConditionContext): Promise<string> {
  let other = await operand.compileState();
  const mine = ctx.heading;
  const shared = mine.names.filter((n) => other.heading.names.includes(n));
  if (ctx.semanticCheck) assertHomologous(mine, other.heading, shared, 'restrict');
  // MySQL does not allow LIMIT directly inside IN (...): select from the limited derived table.
  if (isLimiting(other.top)) other = asSubquery(other, ctx.dialect);
  if (shared.length === 0) {
    // No common attributes: restriction by a non-empty set keeps everything.
    return `EXISTS (${ctx.selectSql(other, [])})`;
  }
  for (const n of shared) ctx.used.add(n);
  if (shared.some((n) => other.heading.get(n)!.nullable)) ctx.nullable = true;
  const cols = shared.map((n) => ctx.column(n));
  const lhs = cols.length === 1 ? cols[0]! : `(${cols.join(',')})`;
  return `${lhs} IN (${ctx.selectSql(other, shared)})`;
}

/**
 * Identifiers of an SQL text, outside string literals: bare words and quoted names. Backquotes
 * quote names on MySQL; double quotes quote names on PostgreSQL and strings on MySQL (in its
 * default mode), so the dialect decides.
 */
export function identifiers(sql: string, dialect: Pick<Dialect, 'name'>): Set<string> {
  const out = new Set<string>();
  const pg = dialect.name === 'postgresql';
  const strings = pg ? /'(?:[^']|'')*'/g : /'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"/g;
  const stripped = sql.replace(strings, ' ');
  const names = pg ? /"((?:[^"]|"")+)"|\b([A-Za-z_][A-Za-z0-9_]*)\b/g : /`((?:[^`]|``)+)`|\b([A-Za-z_][A-Za-z0-9_]*)\b/g;
  for (const m of stripped.matchAll(names)) out.add(m[1] !== undefined ? m[1].replace(pg ? /""/g : /``/g, pg ? '"' : '`') : m[2]!);
  return out;
}

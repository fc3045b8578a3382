/**
 * Restriction conditions → SQL (spec: reference/specs/query-algebra.md, restriction).
 * A condition is: SQL string; plain object (AND of equalities); query expression or table
 * class (semijoin on homologous namesakes); array (OR); boolean; dj.not(c).
 */
import { DataJointError, UnknownAttributeError } from '../errors.js';
import type { Dialect } from '../connection/adapter.js';
import type { Heading } from '../heading/heading.js';
import { encodeScalar } from '../fetch/convert.js';

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
  compileState(): Promise<import('./state.js').State>;
}

export function isSubqueryOperand(x: unknown): x is SubqueryOperand {
  return typeof x === 'object' && x !== null && (x as { isQueryExpression?: unknown }).isQueryExpression === true;
}

export interface ConditionContext {
  heading: Heading;
  dialect: Dialect;
  semanticCheck: boolean;
  /** Turn a table class / expression-like into a SubqueryOperand, or null. */
  toOperand(x: unknown): SubqueryOperand | null;
  /** SELECT text of a state restricted to the given attributes. */
  selectSql(state: import('./state.js').State, attributes: string[]): string;
  /** Column reference in the current FROM (a computed attribute's expression or its quoted name). */
  column(name: string): string;
}

/** Compile one condition to an SQL boolean expression. `'TRUE'`/`'FALSE'` for trivial ones. */
export async function compileCondition(cond: unknown, ctx: ConditionContext, negate = false): Promise<string> {
  if (cond instanceof Not) return compileCondition(cond.condition, ctx, !negate);
  const wrap = (sql: string) => (negate ? `NOT (${sql})` : sql);

  if (cond === true || cond === false) return (cond !== negate) ? 'TRUE' : 'FALSE';
  if (cond === null || cond === undefined) throw new DataJointError('A restriction cannot be null or undefined');
  if (typeof cond === 'string') {
    if (!cond.trim()) throw new DataJointError('A restriction string cannot be empty');
    return wrap(`(${cond})`);
  }
  if (Array.isArray(cond)) {
    // OR of the elements; an empty list restricts to nothing.
    if (cond.length === 0) return negate ? 'TRUE' : 'FALSE';
    const parts = await Promise.all(cond.map((c) => compileCondition(c, ctx)));
    return wrap(parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`);
  }
  const operand = ctx.toOperand(cond);
  if (operand) return wrap(await semijoin(operand, ctx));
  if (isArrowTable(cond)) {
    return compileCondition(arrowRows(cond), ctx, negate);
  }
  if (typeof cond === 'object' && (cond.constructor === Object || Object.getPrototypeOf(cond) === null)) {
    const entries = Object.entries(cond as Record<string, unknown>).filter(([k]) => ctx.heading.has(k));
    // Keys not in the heading are ignored, as in DataJoint: a dict restricts on shared attributes.
    if (entries.length === 0) return negate ? 'FALSE' : 'TRUE';
    const parts = entries.map(([k, v]) => {
      const a = ctx.heading.get(k)!;
      const col = ctx.column(k);
      if (v === null || v === undefined) return `${col} IS NULL`;
      if (a.codec) throw new DataJointError(`Cannot restrict by codec attribute \`${k}\``);
      const lit = ctx.dialect.literal(encodeScalar({ ...a, nullable: true }, v));
      return `${col}=${lit}`;
    });
    return wrap(parts.join(' AND '));
  }
  throw new DataJointError(`Invalid restriction of type ${typeof cond === 'object' ? cond.constructor?.name : typeof cond}`);
}

async function semijoin(operand: SubqueryOperand, ctx: ConditionContext): Promise<string> {
  const other = await operand.compileState();
  const mine = ctx.heading;
  const shared = mine.names.filter((n) => other.heading.names.includes(n));
  if (ctx.semanticCheck && mine.lineageAvailable && other.heading.lineageAvailable) {
    for (const n of shared) {
      const l1 = mine.get(n)!.lineage;
      const l2 = other.heading.get(n)!.lineage;
      if (l1 === null || l2 === null || l1 !== l2)
        throw new DataJointError(
          `Cannot restrict on attribute \`${n}\`: different lineages (${l1 ?? 'none'} vs ${l2 ?? 'none'}). Use .proj() to rename one of the attributes or restrict(..., { semanticCheck: false }).`,
        );
    }
  }
  if (shared.length === 0) {
    // No common attributes: restriction by a non-empty set keeps everything.
    return `EXISTS (${ctx.selectSql(other, [])})`;
  }
  const cols = shared.map((n) => ctx.column(n));
  const lhs = cols.length === 1 ? cols[0]! : `(${cols.join(',')})`;
  return `${lhs} IN (${ctx.selectSql(other, shared)})`;
}

interface ArrowLike {
  numRows: number;
  schema: { fields: Array<{ name: string }> };
  getChild(name: string): { get(i: number): unknown } | null;
}

function isArrowTable(x: unknown): x is ArrowLike {
  return typeof x === 'object' && x !== null && typeof (x as ArrowLike).getChild === 'function' && typeof (x as ArrowLike).numRows === 'number' && !!(x as ArrowLike).schema;
}

export function arrowRows(t: ArrowLike): Record<string, unknown>[] {
  const names = t.schema.fields.map((f) => f.name);
  const cols = names.map((n) => t.getChild(n)!);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < t.numRows; i++) {
    const row: Record<string, unknown> = {};
    names.forEach((n, j) => (row[n] = cols[j]!.get(i)));
    out.push(row);
  }
  return out;
}

export { isArrowTable, UnknownAttributeError };

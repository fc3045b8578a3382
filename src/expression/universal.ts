/**
 * dj.U(...attributes): the universal set (spec: query-algebra §8, primary keys, "Universal
 * Set"). Its attributes are homologous to any namesake. Valid: `dj.U('a').restrict(A)` (the
 * distinct values of `a` in A, with `a` as primary key) and `dj.U('a').aggr(A, {...})`
 * (grouping by `a`). Invalid: join and minus (an infinite set).
 */
import { DataJointError } from '../errors.js';
import { DerivedExpression, toExpression, splitAggrArgs, type AggrArg, type Operand, type QueryExpression } from './expression.js';
import { universalAggrState, universalRestrictState } from './aggr.js';

export class UniversalSet {
  readonly isUniversalSet = true as const;
  readonly attributes: readonly string[];

  constructor(attributes: readonly string[]) {
    for (const a of attributes)
      if (typeof a !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(a)) throw new DataJointError(`dj.U takes attribute names, got ${String(a)}`);
    if (new Set(attributes).size !== attributes.length) throw new DataJointError('dj.U: an attribute is listed more than once');
    this.attributes = [...attributes];
  }

  get primaryKey(): string[] {
    return [...this.attributes];
  }

  /** @internal */

  expression(x: unknown, op: string): QueryExpression {
    if (x instanceof UniversalSet) throw new DataJointError(`dj.U(...).${op} needs a query expression, not another dj.U`);
    const e = toExpression(x);
    if (!e) throw new DataJointError(`dj.U(...).${op} needs a query expression or a table class`);
    return e;
  }

  /** `dj.U('a', 'b').restrict(A)`: distinct (a, b) values of A, with (a, b) as the primary key. */
  restrict(other: Operand): QueryExpression {
    const e = this.expression(other, 'restrict');
    const attrs = this.attributes;
    return new DerivedExpression(e.connection, 'U.restrict', [e], { attributes: attrs }, async () => universalRestrictState(attrs, await e.compileState(), e.connection.dialect));
  }

  /** `dj.U('a').aggr(A, { n: 'count(*)' })`: A grouped by `a`; `dj.U().aggr(A, ...)`: one row. */
  aggr(group: Operand, ...args: AggrArg[]): QueryExpression {
    const e = this.expression(group, 'aggr');
    const { spec, options } = splitAggrArgs(args);
    if (options.excludeNonmatching === false)
      throw new DataJointError('dj.U(...).aggr cannot keep all rows (excludeNonmatching: false): the universal set is infinite');
    const attrs = this.attributes;
    return new DerivedExpression(e.connection, 'U.aggr', [e], { attributes: attrs, args }, async () => universalAggrState(attrs, await e.compileState(), spec, e.connection.dialect));
  }

  /** Not supported: `dj.U(...) * table` was removed in DataJoint 2.0. */
  join(_other?: unknown): never {
    throw new DataJointError('dj.U(...) * table is no longer supported in DataJoint 2.0. Use dj.U(...) & table instead: dj.U(...).restrict(table).');
  }

  /** Not supported: the complement within the universal set is infinite. */
  minus(_other?: unknown): never {
    throw new DataJointError('dj.U(...) - table produces an infinite set and is not supported. Restrict instead: dj.U(...).restrict(table).');
  }

  toString(): string {
    return `dj.U(${this.attributes.map((a) => `'${a}'`).join(', ')})`;
  }
}

/** `dj.U('a', 'b')`. */
export function U(...attributes: string[]): UniversalSet {
  return new UniversalSet(attributes);
}

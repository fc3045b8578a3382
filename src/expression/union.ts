/**
 * Union (spec: query-algebra §7): entities of A or B. Both must have the same primary key and
 * no common secondary attributes; each side's secondary attributes are NULL for rows only in
 * the other. Built as (A LEFT JOIN B) UNION (B LEFT JOIN A) over the union heading, wrapped
 * as a derived table, so every further operator sees plain columns.
 *
 * Lineage: the union keeps the left operand's lineage for the primary key. DataJoint Python
 * checks no lineage for a union of keys alone (`UNION` of the two SELECTs) and checks it through
 * the left join when there are secondary attributes; so do we.
 */
import { DataJointError } from '../errors.js';
import type { Dialect } from '../adapters/adapter.js';
import { assertHomologous } from './condition.js';
import { joinStates } from './join.js';
import { nextAlias, selectSql, type State } from './state.js';

export function unionStates(a: State, b: State, dialect: Dialect): State {
  const pkA = a.heading.primaryKey;
  const pkB = b.heading.primaryKey;
  if (pkA.length !== pkB.length || !pkA.every((k) => pkB.includes(k)))
    throw new DataJointError(`The operands of a union must have the same primary key: (${pkA.join(', ')}) vs (${pkB.join(', ')})`);
  for (const k of pkA) {
    const ta = a.heading.get(k)!;
    const tb = b.heading.get(k)!;
    if (ta.expression === null && tb.expression === null && ta.type !== tb.type)
      throw new DataJointError(`The operands of a union must have the same primary key types: \`${k}\` is ${ta.type} vs ${tb.type}`);
  }
  const secA = a.heading.secondaryAttributes;
  const secB = b.heading.secondaryAttributes;
  const common = secA.filter((n) => secB.includes(n));
  if (common.length) throw new DataJointError(`The operands of a union must not share secondary attributes: ${common.map((n) => `\`${n}\``).join(', ')}`);
  // As in DataJoint Python: a union of primary keys alone needs no lineage match (it is a plain
  // UNION); with secondary attributes it is built from left joins, which match by lineage.
  if (secA.length || secB.length) assertHomologous(a.heading, b.heading, pkA, 'join');

  const names = [...pkA, ...secA, ...secB];
  let sql: string;
  if (!secA.length && !secB.length) {
    sql = `(${selectSql(a, dialect, pkA)}) UNION (${selectSql(b, dialect, pkA)})`;
  } else {
    const ab = joinStates(a, b, { left: true, semanticCheck: false }, dialect);
    const ba = joinStates(b, a, { left: true, semanticCheck: false }, dialect);
    sql = `(${selectSql(ab, dialect, names)}) UNION (${selectSql(ba, dialect, names)})`;
  }
  const attrs = [
    ...pkA.map((k) => ({ ...a.heading.get(k)!, expression: null })),
    ...secA.map((n) => ({ ...a.heading.get(n)!, expression: null, nullable: true })),
    ...secB.map((n) => ({ ...b.heading.get(n)!, expression: null, nullable: true })),
  ];
  return {
    heading: a.heading.with(attrs, a.heading.lineageAvailable && b.heading.lineageAvailable),
    from: `(${sql}) AS ${dialect.quoteId(nextAlias())}`,
    where: [],
    groupBy: null,
    having: [],
    distinct: false,
    top: null,
    fromColumns: names,
  };
}

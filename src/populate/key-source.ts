/**
 * Default key source (spec: autopopulate §2.2): the join of the tables referenced by the
 * foreign keys of the primary key, with renamed references projected to the child's names.
 * Parents' secondary attributes stay available for restriction when their names are unique.
 * A restriction by a query expression is matched on the key alone (restrictKeySource).
 */
import type { Connection } from '../connection/connection.js';
import { QueryExpression, toExpression } from '../expression/expression.js';
import { Not, isSubqueryOperand, isUniversalSet, not } from '../expression/condition.js';
import { nextAlias, type State } from '../expression/state.js';
import { type Attribute, Heading } from '../heading/heading.js';
import { loadHeading } from '../table/load-heading.js';
import { DataJointError } from '../errors.js';

export class ParentJoin extends QueryExpression {
  constructor(
    private readonly conn: Connection,
    private readonly database: string,
    private readonly tableName: string,
    private readonly childHeadingOf: () => Promise<Heading>,
  ) {
    super();
  }

  get connection(): Connection {
    return this.conn;
  }

  /** @internal */
  async baseState(): Promise<State> {
    const d = this.conn.dialect;
    const childHeading = await this.childHeadingOf();
    const pk = childHeading.primaryKey;
    const fks = (await this.conn.catalog.foreignKeys(this.database, this.tableName)).filter((fk) => fk.attrMap.every(([c]) => pk.includes(c)));
    if (!fks.length) throw new DataJointError(`${this.tableName}: the primary key has no foreign keys, so there is no default key source; override keySource`);
    // Secondary attributes that appear in exactly one parent and not in the child key.
    const parentHeadings = await Promise.all(fks.map((fk) => loadHeading(this.conn, fk.parentDatabase, fk.parentTable)));
    const count = new Map<string, number>();
    for (const h of parentHeadings) for (const a of h.visible) if (!a.inKey) count.set(a.name, (count.get(a.name) ?? 0) + 1);
    // The key: the child's primary-key attributes its parents supply (all of them, unless
    // jobs.allow_new_pk_fields_in_computed_tables let the child add its own, which make fills).
    const fromParents = new Set(fks.flatMap((fk) => fk.attrMap.map(([c]) => c)));
    const attrs: Attribute[] = pk.filter((k) => fromParents.has(k)).map((k) => ({ ...childHeading.get(k)!, expression: null }));
    const parts: string[] = [];
    fks.forEach((fk, i) => {
      const ph = parentHeadings[i]!;
      const cols = fk.attrMap.map(([c, p]) => `${d.quoteId(p)} AS ${d.quoteId(c)}`);
      for (const a of ph.visible) {
        if (a.inKey || count.get(a.name) !== 1 || pk.includes(a.name) || a.codec) continue;
        cols.push(d.quoteId(a.name));
        attrs.push({ ...a, inKey: false, expression: null });
      }
      parts.push(`(SELECT ${cols.join(',')} FROM ${d.fullName(fk.parentDatabase, fk.parentTable)}) AS ${d.quoteId(nextAlias())}`);
    });
    return {
      heading: new Heading(attrs, { lineageAvailable: childHeading.lineageAvailable }),
      from: parts.join(' NATURAL JOIN '),
      where: [],
      groupBy: null,
      having: [],
      distinct: false,
      top: null,
    };
  }
}

/**
 * The key source restricted, as populate, progress and jobs.refresh use it. DataJoint Python's
 * default key source holds the key alone, so a query expression restricts it by the key (e.g.
 * `Session.restrict("session_date > '2026-01-01'")`, the spec's `populate(Session & cond)`).
 * Here it also holds the parents' unique secondary attributes, for string and object
 * restrictions (`'factor = 3'`), and these, null in lineage, would make a namesake in the
 * expression a semantic-check error: each expression or table class in the condition (also in
 * an array or dj.not) becomes the key-only key source restricted by it.
 */
export function restrictKeySource(ks: QueryExpression, condition: unknown): QueryExpression {
  if (!(ks instanceof ParentJoin)) return ks.restrict(condition);
  const keys = ks.proj();
  const onKeys = (c: unknown): unknown => {
    if (c instanceof Not) return not(onKeys(c.condition));
    if (Array.isArray(c) || c instanceof Set) return [...(c as Iterable<unknown>)].map(onKeys);
    if (isUniversalSet(c)) return c;
    const operand = toExpression(c) ?? (isSubqueryOperand(c) ? c : null);
    return operand ? keys.restrict(operand) : c;
  };
  return ks.restrict(onKeys(condition));
}

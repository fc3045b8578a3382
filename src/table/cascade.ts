/**
 * The cascade planner: which rows a delete that starts at a (restricted) table reaches — its
 * own rows, every dependent row downstream, and with partIntegrity 'cascade' the masters of
 * reached part rows — as one restriction per table. `delete` executes a plan (children first)
 * and `Diagram.cascade(...).counts()` counts one without deleting; both plan with this module,
 * so the counts are what the delete removes.
 *
 * Each table's restriction refers only to its own columns and to its parents' restrictions,
 * and a delete removes children before parents, so every restriction selects the same rows
 * when counted beforehand as when its table is deleted from.
 */
import { IntegrityError } from '../errors.js';
import type { SqlValue } from '../adapters/adapter.js';
import type { Connection } from '../connection/connection.js';
import type { State } from '../expression/state.js';
import { type TableId, childrenOf, descendants, masterOf, tableKey } from './graph.js';
import { keysCondition, tuplesCondition } from './keys.js';
import { loadHeading } from './load-heading.js';

export type PartIntegrity = 'enforce' | 'ignore' | 'cascade';

/** The table a cascade starts at. */
export interface CascadeTarget {
  readonly connection: Connection;
  readonly database: string;
  readonly tableName: string;
  readonly fullTableName: string;
  readonly _restrictions: ReadonlyArray<{ condition: unknown }>;
  declare(): Promise<void>;
  compileState(): Promise<State>;
  keys(): Promise<Array<Record<string, unknown>>>;
}

/** One table of a plan: its rows that the cascade reaches are those matching `where`. */
export interface PlannedTable {
  id: TableId;
  /** The dialect's quoted full name. */
  fullName: string;
  where: string;
}

export interface CascadePlan {
  /** The table the cascade starts at. */
  root: PlannedTable;
  /** Every reached table, parents before children. */
  tables: PlannedTable[];
}

type Plan = Map<string, { id: TableId; conds: string[] }>;

const orOf = (conds: string[]) => (conds.length === 1 ? conds[0]! : conds.map((c) => `(${c})`).join(' OR '));

/** Plan the cascade from `t` (declaring it if needed). Throws IntegrityError for part rows without their masters under 'enforce'. */
export async function planCascade(t: CascadeTarget, partIntegrity: PartIntegrity = 'enforce'): Promise<CascadePlan> {
  await t.declare();
  const conn = t.connection;
  const self: TableId = { database: t.database, name: t.tableName };
  const roots: Plan = new Map([[tableKey(self), { id: self, conds: await materializedCondition(t) }]]);
  for (;;) {
    const { plan, order } = await propagate(conn, roots);
    const added = await checkPartIntegrity(conn, plan, partIntegrity);
    if (!added.length) {
      const tables = order.flatMap((id) => {
        const p = plan.get(tableKey(id));
        return p?.conds.length ? [{ id, fullName: conn.dialect.fullName(id.database, id.name), where: orOf(p.conds) }] : [];
      });
      return { root: tables.find((x) => tableKey(x.id) === tableKey(self))!, tables };
    }
    for (const m of added) {
      const existing = roots.get(tableKey(m.id));
      if (existing) existing.conds.push(...m.conds);
      else roots.set(tableKey(m.id), m);
    }
  }
}

/** Rows each planned table would lose, by full name, in plan order (0 included); nothing is deleted. */
export async function countCascade(conn: Connection, plan: CascadePlan): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const t of plan.tables) {
    const rows = await conn.query(`SELECT COUNT(*) AS n FROM ${t.fullName} WHERE ${t.where}`);
    counts.set(t.fullName, Number(rows[0]!.n));
  }
  return counts;
}

/** Delete the planned rows, children first; rows deleted per full name. */
export async function executeCascade(conn: Connection, plan: CascadePlan): Promise<Map<string, number>> {
  const deleted = new Map<string, number>();
  for (const t of [...plan.tables].reverse()) deleted.set(t.fullName, (await conn.execute(`DELETE FROM ${t.fullName} WHERE ${t.where}`)).affectedRows);
  return deleted;
}

/**
 * The restriction of the table as SQL that refers only to its own columns (a restriction by
 * another query is materialized into key literals first, so deleting descendants cannot change
 * which rows it selects).
 */
export async function materializedCondition(t: CascadeTarget): Promise<string[]> {
  const state = await t.compileState();
  // The WHERE applies to the table itself only when the state still selects from it directly
  // (a Top, or a restriction after one, turns it into a subquery).
  const direct = state.from === t.fullTableName && !state.top && !state.groupBy;
  const simple =
    direct &&
    t._restrictions.every(
      (r) => typeof r.condition === 'string' || typeof r.condition === 'boolean' || (typeof r.condition === 'object' && r.condition !== null && r.condition.constructor === Object),
    );
  if (simple) return [state.where.length ? state.where.join(' AND ') : 'TRUE'];
  return [keysCondition(t.connection, state.heading, await t.keys())];
}

/** Restrictions of every table reached by cascading from the roots, in topological order. */
async function propagate(conn: Connection, roots: Plan): Promise<{ plan: Plan; order: TableId[] }> {
  const d = conn.dialect;
  const order = await descendants(conn, [...roots.values()].map((r) => r.id), false);
  const plan: Plan = new Map();
  for (const [k, r] of roots) plan.set(k, { id: r.id, conds: [...r.conds] });
  for (const id of order) {
    const p = plan.get(tableKey(id));
    if (!p || !p.conds.length) continue;
    for (const fk of await childrenOf(conn, id)) {
      const child: TableId = { database: fk.childDatabase, name: fk.childTable };
      const ck = tableKey(child);
      if (ck === tableKey(id)) continue;
      const childCols = fk.attrMap.map(([c]) => d.quoteId(c));
      const parentCols = fk.attrMap.map(([, pc]) => d.quoteId(pc));
      // A derived table: materialized, so MySQL allows it even when the child is the delete target.
      const cond = `(${childCols.join(',')}) IN (SELECT * FROM (SELECT ${parentCols.join(',')} FROM ${d.fullName(id.database, id.name)} WHERE ${orOf(p.conds)})${d.derivedAlias('$' + fk.name)})`;
      if (!plan.has(ck)) plan.set(ck, { id: child, conds: [] });
      plan.get(ck)!.conds.push(cond);
    }
  }
  return { plan, order };
}

/**
 * Which columns of a part hold its master's primary key (part column → master column): those
 * of its foreign key to the master (in its primary key or below `---`, maybe renamed), else,
 * for a part that reaches its master through a sibling (`-> master.PartA`), the master's key
 * attributes by name. Null when the part's rows do not belong to master rows.
 */
async function masterColumns(conn: Connection, part: TableId, master: TableId): Promise<Array<[string, string]> | null> {
  const fk = (await conn.catalog.foreignKeys(part.database, part.name)).find((f) => f.parentDatabase === master.database && f.parentTable === master.name);
  if (fk) return fk.attrMap;
  const mine = new Set((await conn.catalog.columns(part.database, part.name)).map((c) => c.name));
  const pk = (await conn.catalog.columns(master.database, master.name)).filter((c) => c.inKey).map((c) => c.name);
  return pk.length && pk.every((k) => mine.has(k)) ? pk.map((k) => [k, k]) : null;
}

/**
 * Part integrity: rows of a part may be deleted only together with their master rows.
 * Returns master restrictions to add for 'cascade'; throws for 'enforce'.
 */
async function checkPartIntegrity(conn: Connection, plan: Plan, mode: PartIntegrity) {
  if (mode === 'ignore') return [];
  const d = conn.dialect;
  const add: Array<{ id: TableId; conds: string[] }> = [];
  for (const { id, conds } of plan.values()) {
    const master = masterOf(id);
    if (!master || !conds.length) continue;
    const attrMap = await masterColumns(conn, id, master);
    if (!attrMap) continue;
    const masterPlan = plan.get(tableKey(master));
    const childCols = attrMap.map(([c]) => d.quoteId(c));
    const parentCols = attrMap.map(([, p]) => d.quoteId(p));
    const tuple = (cols: string[]) => (cols.length === 1 ? cols[0]! : `(${cols.join(',')})`);
    let sql = `SELECT DISTINCT ${attrMap.map(([c, p]) => `${d.quoteId(c)} AS ${d.quoteId(p)}`).join(',')} FROM ${d.fullName(id.database, id.name)} WHERE (${orOf(conds)})`;
    sql += ` AND ${childCols.map((c) => `${c} IS NOT NULL`).join(' AND ')}`;
    if (masterPlan?.conds.length)
      sql += ` AND ${tuple(childCols)} NOT IN (SELECT ${parentCols.join(',')} FROM ${d.fullName(master.database, master.name)} WHERE ${orOf(masterPlan.conds)})`;
    const orphans = await conn.query(sql + d.limitClause(100_000, 0));
    if (!orphans.length) continue;
    if (mode === 'enforce')
      throw new IntegrityError(
        `Cannot delete rows of part table ${d.fullName(id.database, id.name)} without their master rows in ${d.fullName(master.database, master.name)}. Delete from the master, or pass partIntegrity: 'cascade' (also delete the masters) or 'ignore'.`,
      );
    // Values as the driver returned them are valid SQL literals for the same columns. Their
    // kinds let a long list take the dialect's form for many rows (an OR of thousands of
    // equalities takes seconds on MariaDB and exceeds PostgreSQL's stack).
    const names = Object.keys(orphans[0]!);
    const masterHeading = await loadHeading(conn, master.database, master.name);
    const kinds = names.map((n) => masterHeading.get(n)?.kind ?? 'other');
    add.push({ id: master, conds: [tuplesCondition(d, names, orphans.map((r) => names.map((n) => r[n] as SqlValue)), kinds)] });
  }
  return add;
}

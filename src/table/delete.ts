/**
 * Delete with cascade (API.md §5): the rows of a (restricted) table and, in one transaction,
 * every dependent row downstream, children before parents; part integrity keeps masters and
 * their parts together.
 */
import { DataJointError, IntegrityError } from '../errors.js';
import type { SqlValue } from '../adapters/adapter.js';
import type { Connection } from '../connection/connection.js';
import type { State } from '../expression/state.js';
import { type TableId, childrenOf, descendants, masterOf, tableKey } from './graph.js';
import { keysCondition, tuplesCondition } from './keys.js';
import { confirm, shouldPrompt } from './prompt.js';

export interface DeleteOptions {
  /** Run the cascade in its own transaction (default true). */
  transaction?: boolean;
  /** Ask before committing (default: the `safemode` setting, on a terminal). */
  prompt?: boolean;
  /** Part rows may be deleted only with their masters ('enforce', default), or regardless ('ignore'), or their masters are deleted too ('cascade'). */
  partIntegrity?: 'enforce' | 'ignore' | 'cascade';
}

/** What delete needs from the table it starts at. */
export interface DeleteTarget {
  readonly connection: Connection;
  readonly database: string;
  readonly tableName: string;
  readonly fullTableName: string;
  readonly _restrictions: ReadonlyArray<{ condition: unknown }>;
  declare(): Promise<void>;
  compileState(): Promise<State>;
  keys(): Promise<Array<Record<string, unknown>>>;
}

type Plan = Map<string, { id: TableId; conds: string[] }>;

class DeleteCancelled extends Error {}

const orOf = (conds: string[]) => (conds.length === 1 ? conds[0]! : conds.map((c) => `(${c})`).join(' OR '));

/** Delete without cascading; returns the count. */
export async function deleteQuick(t: DeleteTarget): Promise<number> {
  const where = (await materializedCondition(t)).join(' AND ');
  return (await t.connection.execute(`DELETE FROM ${t.fullTableName} WHERE ${where}`)).affectedRows;
}

/** Delete with cascade; returns the number of rows deleted from the target table itself. */
export async function deleteCascade(t: DeleteTarget, opts: DeleteOptions = {}): Promise<number> {
  await t.declare();
  const conn = t.connection;
  const partIntegrity = opts.partIntegrity ?? 'enforce';
  if (!['enforce', 'ignore', 'cascade'].includes(partIntegrity)) throw new DataJointError(`partIntegrity must be 'enforce', 'ignore' or 'cascade'`);
  const prompt = shouldPrompt(opts.prompt, `to delete from ${t.fullTableName}`);
  const self: TableId = { database: t.database, name: t.tableName };

  const run = async (): Promise<number> => {
    const roots: Plan = new Map([[tableKey(self), { id: self, conds: await materializedCondition(t) }]]);
    let plan: Plan;
    let order: TableId[];
    for (;;) {
      ({ plan, order } = await cascadePlan(conn, roots));
      const added = await checkPartIntegrity(conn, plan, partIntegrity);
      if (!added.length) break;
      for (const m of added) {
        const existing = roots.get(tableKey(m.id));
        if (existing) existing.conds.push(...m.conds);
        else roots.set(tableKey(m.id), m);
      }
    }
    const counts = new Map<string, number>();
    for (const id of [...order].reverse()) {
      const p = plan.get(tableKey(id));
      if (!p || !p.conds.length) continue;
      const r = await conn.execute(`DELETE FROM ${conn.dialect.fullName(id.database, id.name)} WHERE ${orOf(p.conds)}`);
      counts.set(tableKey(id), r.affectedRows);
    }
    if (prompt) {
      const lines = [...counts].filter(([, n]) => n).map(([k, n]) => `Deleting ${n} rows from ${k}`);
      if (!(await confirm('Commit deletes?', lines))) throw new DeleteCancelled();
    }
    return counts.get(tableKey(self)) ?? 0;
  };
  try {
    if (opts.transaction === false) return await run();
    return await conn.transaction(run);
  } catch (err) {
    if (err instanceof DeleteCancelled) {
      process.stdout.write('Delete cancelled; nothing was deleted.\n');
      return 0;
    }
    throw err;
  }
}

/**
 * The restriction of the table as SQL that refers only to its own columns (a restriction by
 * another query is materialized into key literals first, so deleting descendants cannot change
 * which rows it selects).
 */
export async function materializedCondition(t: DeleteTarget): Promise<string[]> {
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
export async function cascadePlan(conn: Connection, roots: Plan): Promise<{ plan: Plan; order: TableId[] }> {
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
 * Part integrity: rows of a part may be deleted only together with their master rows.
 * Returns master restrictions to add for 'cascade'; throws for 'enforce'.
 */
async function checkPartIntegrity(conn: Connection, plan: Plan, mode: 'enforce' | 'ignore' | 'cascade') {
  if (mode === 'ignore') return [];
  const d = conn.dialect;
  const add: Array<{ id: TableId; conds: string[] }> = [];
  for (const { id, conds } of plan.values()) {
    const master = masterOf(id);
    if (!master || !conds.length) continue;
    const masterPlan = plan.get(tableKey(master));
    const masterPk = (await conn.catalog.columns(master.database, master.name)).filter((c) => c.inKey).map((c) => d.quoteId(c.name));
    let sql = `SELECT DISTINCT ${masterPk.join(',')} FROM ${d.fullName(id.database, id.name)} WHERE (${orOf(conds)})`;
    if (masterPlan?.conds.length)
      sql += ` AND (${masterPk.join(',')}) NOT IN (SELECT ${masterPk.join(',')} FROM ${d.fullName(master.database, master.name)} WHERE ${orOf(masterPlan.conds)})`;
    const orphans = await conn.query(sql + d.limitClause(100_000, 0));
    if (!orphans.length) continue;
    if (mode === 'enforce')
      throw new IntegrityError(
        `Cannot delete rows of part table ${d.fullName(id.database, id.name)} without their master rows in ${d.fullName(master.database, master.name)}. Delete from the master, or pass partIntegrity: 'cascade' (also delete the masters) or 'ignore'.`,
      );
    // Values as the driver returned them are valid SQL literals for the same columns.
    const names = Object.keys(orphans[0]!);
    add.push({ id: master, conds: [tuplesCondition(d, names, orphans.map((r) => names.map((n) => r[n] as SqlValue)))] });
  }
  return add;
}

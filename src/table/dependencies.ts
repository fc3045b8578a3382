/**
 * A table's neighbours in the foreign-key graph (API.md §2: parents, children, ancestors,
 * descendants, parts), read from the catalog and ordered as DataJoint Python orders them
 * (dependencies.py): descendants are the table itself, then the others in topological order;
 * ancestors are the table itself, then the others in reverse topological order; in a
 * topological order a part comes right after its master.
 */
import type { Connection } from '../connection/connection.js';
import type { ForeignKeyInfo } from '../adapters/adapter.js';
import { type TableId, masterOf, partsOf, tableKey } from './graph.js';
import type { FreeTable } from './free-table.js';

export interface DependencyOptions {
  /**
   * Parents and children only: `true` keeps foreign keys made of primary-key attributes of the
   * referencing table, `false` those with a secondary attribute; all by default.
   */
  primary?: boolean;
  /** Return FreeTable objects instead of full table names. */
  asObjects?: boolean;
}

/** Full table names, or FreeTables for `{ asObjects: true }`. */
export type DependencyResult<O> = O extends { asObjects: true } ? FreeTable[] : string[];

/** Full table names, or FreeTables (loaded on demand: free-table.ts imports table.ts, which imports this). */
export async function dependencyResult<O extends DependencyOptions>(conn: Connection, ids: TableId[], opts: O | undefined): Promise<DependencyResult<O>> {
  if (!opts?.asObjects) return ids.map((t) => conn.dialect.fullName(t.database, t.name)) as DependencyResult<O>;
  const { FreeTable } = await import('./free-table.js');
  return ids.map((t) => FreeTable.create(conn, t.database, t.name)) as DependencyResult<O>;
}

/** Whether a foreign key's columns are all in the primary key of the referencing table. */
async function isPrimary(conn: Connection, fk: ForeignKeyInfo): Promise<boolean> {
  const pk = new Set((await conn.catalog.columns(fk.childDatabase, fk.childTable)).filter((c) => c.inKey).map((c) => c.name));
  return fk.attrMap.every(([c]) => pk.has(c));
}

async function filterPrimary(conn: Connection, fks: ForeignKeyInfo[], primary: boolean | undefined): Promise<ForeignKeyInfo[]> {
  if (primary === undefined) return fks;
  const out: ForeignKeyInfo[] = [];
  for (const fk of fks) if ((await isPrimary(conn, fk)) === primary) out.push(fk);
  return out;
}

/** Tables this table references, one entry per foreign key (a table referenced twice, once renamed, twice). */
export async function parentsOf(conn: Connection, t: TableId, primary?: boolean): Promise<TableId[]> {
  const fks = await filterPrimary(conn, await conn.catalog.foreignKeys(t.database, t.name), primary);
  return fks.map((fk) => ({ database: fk.parentDatabase, name: fk.parentTable }));
}

/** Tables that reference this table, one entry per foreign key. */
export async function childrenOfTable(conn: Connection, t: TableId, primary?: boolean): Promise<TableId[]> {
  const fks = await filterPrimary(conn, await conn.catalog.referencingKeys(t.database, t.name), primary);
  return fks.map((fk) => ({ database: fk.childDatabase, name: fk.childTable }));
}

/** Every table reachable by following `next` from `start` (itself excluded), with the edges seen. */
async function reach(start: TableId, next: (t: TableId) => Promise<TableId[]>): Promise<{ nodes: Map<string, TableId>; edges: Array<[string, string]> }> {
  const nodes = new Map<string, TableId>();
  const edges: Array<[string, string]> = [];
  const queue = [start];
  const seen = new Set([tableKey(start)]);
  while (queue.length) {
    const t = queue.shift()!;
    for (const n of await next(t)) {
      edges.push([tableKey(t), tableKey(n)]);
      if (seen.has(tableKey(n))) continue;
      seen.add(tableKey(n));
      nodes.set(tableKey(n), n);
      queue.push(n);
    }
  }
  return { nodes, edges };
}

/**
 * Topological order (parents first) of `nodes` under `edges` (parent → child), with each part
 * moved right after its master when both are present, as DataJoint Python's topo_sort does.
 * A part's other parents are ordered before its master, so the move keeps the order valid.
 */
export function topoSort(nodes: Map<string, TableId>, edges: ReadonlyArray<[parent: string, child: string]>): TableId[] {
  const inSet = (k: string) => nodes.has(k);
  const all: Array<[string, string]> = edges.filter(([p, c]) => inSet(p) && inSet(c) && p !== c);
  const masterKey = (k: string) => {
    const m = masterOf(nodes.get(k)!);
    return m && inSet(tableKey(m)) ? tableKey(m) : null;
  };
  for (const [p, c] of [...all]) {
    const m = masterKey(c);
    if (m && p !== m && masterKey(p) !== m) all.push([p, m]);
  }
  const kids = new Map<string, string[]>([...nodes.keys()].map((k) => [k, []]));
  const indeg = new Map<string, number>([...nodes.keys()].map((k) => [k, 0]));
  for (const [p, c] of all) {
    kids.get(p)!.push(c);
    indeg.set(c, indeg.get(c)! + 1);
  }
  const ready = [...nodes.keys()].filter((k) => indeg.get(k) === 0);
  const order: string[] = [];
  while (ready.length) {
    const k = ready.shift()!;
    order.push(k);
    for (const c of kids.get(k)!) {
      indeg.set(c, indeg.get(c)! - 1);
      if (indeg.get(c) === 0) ready.push(c);
    }
  }
  // Bring parts up to their masters (from the end, so each part is moved once).
  for (let pos = order.length - 1, placed = new Set<string>(); pos > 0; ) {
    const part = order[pos]!;
    const m = masterKey(part);
    if (!m || placed.has(part)) {
      pos--;
      continue;
    }
    placed.add(part);
    const at = order.indexOf(m) + 1;
    if (pos > at) {
      order.splice(pos, 1);
      order.splice(at, 0, part);
    } else pos--;
  }
  return order.map((k) => nodes.get(k)!);
}

/** The table itself, then every table that depends on it, in topological order. */
export async function descendantsOf(conn: Connection, t: TableId): Promise<TableId[]> {
  const { nodes, edges } = await reach(t, (x) => childrenOfTable(conn, x));
  nodes.delete(tableKey(t));
  return [t, ...topoSort(nodes, edges)];
}

/** The table itself, then every table it depends on, in reverse topological order. */
export async function ancestorsOf(conn: Connection, t: TableId): Promise<TableId[]> {
  const { nodes, edges } = await reach(t, (x) => parentsOf(conn, x));
  nodes.delete(tableKey(t));
  // Edges were found child → parent; the order is over parent → child.
  return [t, ...topoSort(nodes, edges.map(([c, p]) => [p, c] as [string, string])).reverse()];
}

/** The part tables of a master. */
export function partsOfTable(conn: Connection, t: TableId): Promise<TableId[]> {
  return partsOf(conn, t);
}

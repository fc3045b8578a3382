/**
 * Foreign-key graph read from the catalog: children of a table (for delete cascades and drop)
 * and a topological order over a set of tables.
 */
import type { Connection } from '../connection/connection.js';
import type { ForeignKeyInfo } from '../adapters/adapter.js';
import { parseTableName } from './names.js';

export interface TableId {
  database: string;
  name: string;
}

export const tableKey = (t: TableId) => `${t.database}.${t.name}`;

/** Foreign keys that reference `t` (one entry per constraint). */
export async function childrenOf(conn: Connection, t: TableId): Promise<ForeignKeyInfo[]> {
  return conn.catalog.referencingKeys(t.database, t.name);
}

/** The master's part tables: `master__*` in the same database. */
export async function partsOf(conn: Connection, t: TableId): Promise<TableId[]> {
  if (parseTableName(t.name)?.tier === 'part') return [];
  const tables = await conn.catalog.listTables(t.database);
  return tables.filter((x) => parseTableName(x.name)?.master === t.name).map((x) => ({ database: t.database, name: x.name }));
}

/** Master of a part table name, or null. */
export function masterOf(t: TableId): TableId | null {
  const p = parseTableName(t.name);
  return p?.master ? { database: t.database, name: p.master } : null;
}

/**
 * Every table reachable from `roots` through foreign keys (and master → parts), returned in
 * topological order (parents before children).
 */
export async function descendants(conn: Connection, roots: TableId[], includeParts = true): Promise<TableId[]> {
  const edges = new Map<string, Set<string>>();
  const ids = new Map<string, TableId>();
  const queue = [...roots];
  for (const r of roots) ids.set(tableKey(r), r);
  while (queue.length) {
    const t = queue.shift()!;
    const k = tableKey(t);
    if (edges.has(k)) continue;
    edges.set(k, new Set());
    const kids: TableId[] = (await childrenOf(conn, t)).map((fk) => ({ database: fk.childDatabase, name: fk.childTable }));
    if (includeParts) kids.push(...(await partsOf(conn, t)));
    for (const c of kids) {
      const ck = tableKey(c);
      if (ck === k) continue;
      edges.get(k)!.add(ck);
      if (!ids.has(ck)) ids.set(ck, c);
      queue.push(c);
    }
  }
  // Kahn's algorithm over the discovered subgraph.
  const indeg = new Map([...edges.keys()].map((k) => [k, 0]));
  for (const kids of edges.values()) for (const c of kids) indeg.set(c, (indeg.get(c) ?? 0) + 1);
  const order: TableId[] = [];
  const ready = [...indeg.entries()].filter(([, d]) => d === 0).map(([k]) => k);
  while (ready.length) {
    const k = ready.shift()!;
    order.push(ids.get(k)!);
    for (const c of edges.get(k) ?? []) {
      indeg.set(c, indeg.get(c)! - 1);
      if (indeg.get(c) === 0) ready.push(c);
    }
  }
  return order;
}

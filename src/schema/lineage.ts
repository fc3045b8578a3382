/**
 * The `~lineage` table of a schema (spec: semantic matching): for every attribute that has one,
 * where it originates (`schema.table.attribute`). One module reads, writes, forgets and
 * rebuilds it. The table is created only when a table is declared (never by a reader, which
 * may lack the privilege), from a core-type definition through the same compiler as user
 * tables, laid out as DataJoint Python lays it out (no column comments).
 */
import type { Connection } from '../connection/connection.js';
import { compileDefinition } from '../declare/compile.js';
import { descendants } from '../table/graph.js';
import { retryOnDeadlock } from '../connection/retry.js';

export const LINEAGE_TABLE = '~lineage';

const LINEAGE_DEFINITION = `
table_name : varchar(64)
attribute_name : varchar(64)
---
lineage : varchar(255)
`;

/**
 * Create the schema's ~lineage table if missing (inside the caller's transaction, if any).
 * Processes declaring different tables of a new schema at once all get here: where DDL is
 * transactional, two CREATE TABLE IF NOT EXISTS can collide in the catalog (PostgreSQL fails the
 * second), so the dialect's declaration lock makes the second wait and then find the table.
 */
export async function ensureLineageTable(conn: Connection, database: string): Promise<void> {
  if (await hasLineageTable(conn, database)) return;
  const compiled = await compileDefinition(LINEAGE_DEFINITION, {
    database,
    tableName: LINEAGE_TABLE,
    tier: 'manual',
    dialect: conn.dialect,
    resolve: () => Promise.reject(new Error('~lineage has no foreign keys')),
    typeComments: false,
  });
  const lock = conn.dialect.declarationLock(`${database}.${LINEAGE_TABLE}`);
  if (!lock) return conn.executeAll(compiled.statements); // CREATE TABLE IF NOT EXISTS is safe as it is
  await conn.transaction(async () => {
    await conn.execute(lock);
    if (!(await hasLineageTable(conn, database))) await conn.executeAll(compiled.statements);
  });
}

/** Whether the schema has a ~lineage table (a missing one disables the semantic check). */
export async function hasLineageTable(conn: Connection, database: string): Promise<boolean> {
  return (await conn.catalog.columns(database, LINEAGE_TABLE)).length > 0;
}

/** attribute → lineage of one table, or null when the schema has no ~lineage table. */
export async function readLineage(conn: Connection, database: string, table: string): Promise<Map<string, string> | null> {
  if (!(await hasLineageTable(conn, database))) return null;
  const d = conn.dialect;
  const rows = await conn.query(`SELECT attribute_name AS a, lineage AS l FROM ${d.fullName(database, LINEAGE_TABLE)} WHERE table_name = ${d.param(1)}`, [table]);
  return new Map(rows.map((r) => [String(r.a), String(r.l)]));
}

/** Every entry of a schema: `schema.table.attribute` → lineage ({} without a ~lineage table). */
export async function readSchemaLineage(conn: Connection, database: string): Promise<Record<string, string>> {
  if (!(await hasLineageTable(conn, database))) return {};
  const rows = await conn.query(`SELECT table_name AS t, attribute_name AS a, lineage AS l FROM ${conn.dialect.fullName(database, LINEAGE_TABLE)}`);
  return Object.fromEntries(rows.map((r) => [`${database}.${r.t}.${r.a}`, String(r.l)]));
}

/**
 * Replace the lineage entries of one table (atomically). Declarations of several tables by
 * several processes at once write here together: on MySQL their DELETE and INSERT can
 * deadlock on the index gaps, and the victim's transaction, rolled back whole, is run again
 * (inside a caller's transaction it cannot be: the caller's work went with it).
 */
export async function writeLineage(conn: Connection, database: string, table: string, entries: ReadonlyArray<[attribute: string, lineage: string]>): Promise<void> {
  await ensureLineageTable(conn, database);
  const d = conn.dialect;
  const full = d.fullName(database, LINEAGE_TABLE);
  const replace = () =>
    conn.transaction(async () => {
      await conn.execute(`DELETE FROM ${full} WHERE table_name = ${d.param(1)}`, [table]);
      if (!entries.length) return;
      let i = 0;
      const tuples = entries.map(() => `(${d.param(++i)},${d.param(++i)},${d.param(++i)})`);
      await conn.execute(`INSERT INTO ${full} (table_name, attribute_name, lineage) VALUES ${tuples.join(',')}`, entries.flatMap(([a, l]) => [table, a, l]));
    });
  await (conn.inTransaction ? replace() : retryOnDeadlock(replace));
}

/** Forget the entries of dropped tables (nothing to do without a ~lineage table). */
export async function forgetLineage(conn: Connection, database: string, tables: readonly string[]): Promise<void> {
  if (!tables.length || !(await hasLineageTable(conn, database))) return;
  const d = conn.dialect;
  await conn.execute(`DELETE FROM ${d.fullName(database, LINEAGE_TABLE)} WHERE table_name IN (${tables.map((_, i) => d.param(i + 1)).join(',')})`, tables);
}

/** Recompute ~lineage for every table of a schema from its foreign keys (parents first). */
export async function rebuildLineage(conn: Connection, database: string, tables: readonly string[]): Promise<void> {
  const order = (await descendants(conn, tables.map((name) => ({ database, name })), false)).filter((t) => t.database === database);
  const lineageOf = new Map<string, Map<string, string>>();
  const parentLineage = async (db: string, table: string, attr: string): Promise<string> => {
    if (db === database) return lineageOf.get(table)?.get(attr) ?? `${db}.${table}.${attr}`;
    return (await readLineage(conn, db, table))?.get(attr) ?? `${db}.${table}.${attr}`;
  };
  for (const t of order) {
    const cols = await conn.catalog.columns(database, t.name);
    const fks = await conn.catalog.foreignKeys(database, t.name);
    const map = new Map<string, string>();
    for (const fk of fks) for (const [c, p] of fk.attrMap) if (!map.has(c)) map.set(c, await parentLineage(fk.parentDatabase, fk.parentTable, p));
    for (const c of cols) if (c.inKey && !map.has(c.name)) map.set(c.name, `${database}.${t.name}.${c.name}`);
    lineageOf.set(t.name, map);
    await writeLineage(conn, database, t.name, [...map.entries()]);
  }
}

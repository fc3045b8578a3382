/** Dropping tables with everything that depends on them (parts included), children first. */
import { DataJointError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import { forgetLineage } from '../schema/lineage.js';
import { type TableId, descendants } from './graph.js';
import { confirm, shouldPrompt } from './prompt.js';
import type { SchemaLike } from './table.js';
import { noteDrop } from './drop-generation.js';
import { HeadingCache } from './heading-cache.js';

export interface DropOptions {
  /** Ask before dropping (default: the `safemode` setting, on a terminal). */
  prompt?: boolean;
  /** A part table is dropped only with its master ('enforce', default) or alone ('ignore'). */
  partIntegrity?: 'enforce' | 'ignore';
}

/** The partIntegrity of drop options, validated before anything is dropped ('cascade' is a delete option only). */
export function checkDropOptions(opts: DropOptions): 'enforce' | 'ignore' {
  const partIntegrity = opts.partIntegrity ?? 'enforce';
  if (partIntegrity !== 'enforce' && partIntegrity !== 'ignore')
    throw new DataJointError(`drop: partIntegrity must be 'enforce' or 'ignore', got ${JSON.stringify(partIntegrity)}`);
  return partIntegrity;
}

/** Per-connection heading caches of tables without a schema object (cleared after drops). */
export const freeHeadings = new WeakMap<Connection, HeadingCache>();

/** Drop `roots` and their dependents; returns what was dropped ([] when the user declined). */
export async function dropTables(conn: Connection, roots: TableId[], promptOpt: boolean | undefined, schema?: SchemaLike): Promise<TableId[]> {
  const all = await descendants(conn, roots, true);
  if (shouldPrompt(promptOpt, `to drop ${roots.map((r) => conn.dialect.fullName(r.database, r.name)).join(', ')}`)) {
    if (!(await confirm('Proceed to drop these tables?', all.map((t) => conn.dialect.fullName(t.database, t.name))))) {
      process.stdout.write('Drop cancelled.\n');
      return [];
    }
  }
  if (conn.inTransaction && !conn.dialect.capabilities.transactionalDdl)
    throw new DataJointError('drop() cannot run inside a transaction: MySQL would commit the transaction. Drop outside it.');
  try {
    for (const t of [...all].reverse()) await conn.execute(conn.dialect.dropTable(t.database, t.name));
  } finally {
    noteDrop(); // also when only some were dropped
  }
  const byDb = new Map<string, string[]>();
  for (const t of all) byDb.set(t.database, [...(byDb.get(t.database) ?? []), t.name]);
  for (const [db, names] of byDb) {
    if (schema && schema.database === db) await schema.forgetTables(names);
    else await forgetLineage(conn, db, names);
  }
  freeHeadings.get(conn)?.forget();
  return all;
}

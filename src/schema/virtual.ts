/**
 * Virtual schemas: table classes for an existing database, made from the catalog, for schemas
 * declared by any DataJoint client. Reading needs only SELECT: nothing is created.
 */
import { DataJointError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import type { TableClass } from '../table/table.js';
import { Lookup, Manual, Part } from '../table/tiers.js';
import { Computed, Imported } from '../populate/auto-populate.js';
import { parseTableName } from '../table/names.js';
import { Schema } from './schema.js';

/**
 * Table classes for an existing database, made from the catalog: `lab.Session`,
 * `lab.Session.Trial`. Works for schemas declared by any DataJoint client.
 */
export async function virtualSchema(database: string, opts: { connection?: Connection; createSchema?: boolean } = {}): Promise<Record<string, TableClass> & { schema: Schema }> {
  const s = new Schema(database, { connection: opts.connection, createSchema: false });
  if (!(await s.exists())) {
    throw new DataJointError(`Schema ${database} does not exist`);
  }
  const names = await s.listTables();
  const out: Record<string, TableClass> = {};
  const base = { manual: Manual, lookup: Lookup, computed: Computed, imported: Imported } as const;
  const masters = new Map<string, TableClass>();
  for (const n of names) {
    const p = parseTableName(n);
    if (!p || p.tier === 'part') continue;
    const Base = base[p.tier];
    const cls = { [p.className]: class extends Base {} }[p.className] as unknown as TableClass;
    Object.defineProperty(cls, '_sqlName', { value: n, configurable: true, writable: true });
    s.add(cls);
    masters.set(n, cls);
    out[p.className] = cls;
  }
  for (const n of names) {
    const p = parseTableName(n);
    if (!p || p.tier !== 'part') continue;
    const master = masters.get(p.master!);
    if (!master) continue;
    const cls = { [p.className]: class extends Part {} }[p.className] as unknown as TableClass;
    Object.defineProperty(cls, '_sqlName', { value: n, configurable: true, writable: true });
    Object.defineProperty(cls, '_master', { value: master, configurable: true, writable: true });
    Object.defineProperty(cls, '_schema', { value: s, configurable: true, writable: true });
    Object.defineProperty(master, p.className, { value: cls, configurable: true, writable: true, enumerable: true });
  }
  Object.defineProperty(out, 'schema', { value: s, enumerable: false });
  return out as Record<string, TableClass> & { schema: Schema };
}

/**
 * `schema.populate(opts)` (API.md §10): every auto-populated table of a schema, upstream
 * first (a table's make may read what the tables it depends on computed), with the options of
 * populate(). Returns the result per class name.
 */
import type { TableClass } from '../table/table.js';
import { descendants } from '../table/graph.js';
import type { Connection } from '../connection/connection.js';
import { AutoPopulate } from './auto-populate.js';
import type { PopulateOptions, PopulateResult } from './populate.js';

/** What schema-wide populate needs from a schema. */
export interface PopulatableSchema {
  readonly database: string;
  readonly connection: Connection;
  readonly tables: Record<string, TableClass>;
  declare(): Promise<void>;
}

/** The auto-populated classes of a schema in dependency order (parents before children). */
export async function autoPopulatedInOrder(schema: PopulatableSchema): Promise<Array<[string, typeof AutoPopulate]>> {
  await schema.declare();
  const classes = Object.entries(schema.tables).filter(([, c]) => c.prototype instanceof AutoPopulate) as Array<[string, typeof AutoPopulate]>;
  if (classes.length < 2) return classes;
  const roots = Object.values(schema.tables).map((c) => ({ database: schema.database, name: c.tableName }));
  const order = await descendants(schema.connection, roots, false);
  const rank = new Map(order.map((t, i) => [`${t.database}.${t.name}`, i]));
  return classes.sort(([, a], [, b]) => (rank.get(`${schema.database}.${a.tableName}`) ?? 0) - (rank.get(`${schema.database}.${b.tableName}`) ?? 0));
}

export async function populateSchema(schema: PopulatableSchema, opts: PopulateOptions = {}): Promise<Record<string, PopulateResult>> {
  const out: Record<string, PopulateResult> = {};
  let calls = 0;
  for (const [name, cls] of await autoPopulatedInOrder(schema)) {
    // maxCalls counts makes across the whole schema.
    const left = opts.maxCalls === undefined ? undefined : opts.maxCalls - calls;
    if (left !== undefined && left <= 0) break;
    const r = await (cls as unknown as { populate(o: PopulateOptions): Promise<PopulateResult> }).populate({ ...opts, maxCalls: left });
    calls += r.success + r.error;
    out[name] = r;
  }
  return out;
}

/**
 * `schema.populate(opts)` (API.md §10): every auto-populated table of a schema, upstream
 * first (a table's make may read what the tables it depends on computed), with the options of
 * populate() (maxCalls counts makes across the schema). Returns a result for every class.
 */
import type { TableClass } from '../table/table.js';
import { descendants } from '../table/graph.js';
import type { Connection } from '../connection/connection.js';
import { AutoPopulate } from './auto-populate.js';
import type { PopulateOptions, PopulateResult } from './populate.js';
import { checkPopulateOptions } from './options.js';
import { emptyResult } from './options.js';

/** What schema-wide populate needs from a schema. */
export interface PopulatableSchema {
  readonly database: string;
  readonly connection: Connection;
  readonly tables: Record<string, TableClass>;
  declare(): Promise<void>;
}

/**
 * The auto-populated classes of one or more schemas in dependency order (parents before
 * children, across the schemas). A part's foreign key to its master makes it a child, so a
 * table that depends on another table's part comes after that part's master.
 */
export async function autoPopulatedInOrder(...schemas: PopulatableSchema[]): Promise<Array<[string, typeof AutoPopulate]>> {
  for (const schema of schemas) await schema.declare();
  const classes = schemas.flatMap((schema) => Object.entries(schema.tables).filter(([, c]) => c.prototype instanceof AutoPopulate) as Array<[string, typeof AutoPopulate]>);
  if (classes.length < 2) return classes;
  const roots = schemas.flatMap((schema) => Object.values(schema.tables).map((c) => ({ database: schema.database, name: c.tableName })));
  const order = await descendants(schemas[0]!.connection, roots, false);
  const rank = new Map(order.map((t, i) => [`${t.database}.${t.name}`, i]));
  const rankOf = (c: typeof AutoPopulate) => rank.get(`${c.database}.${c.tableName}`) ?? 0;
  return classes.sort(([, a], [, b]) => rankOf(a) - rankOf(b));
}

export async function populateSchema(schema: PopulatableSchema, opts: PopulateOptions = {}): Promise<Record<string, PopulateResult>> {
  checkPopulateOptions(opts, 'schema.populate');
  const out: Record<string, PopulateResult> = {};
  let calls = 0;
  for (const [name, cls] of await autoPopulatedInOrder(schema)) {
    // maxCalls counts makes across the whole schema.
    // A table it did not reach is in the result too (nothing made), as API.md §10 has one per class.
    const left = opts.maxCalls === undefined ? undefined : opts.maxCalls - calls;
    if (left !== undefined && left <= 0) {
      out[name] = emptyResult();
      continue;
    }
    const r = await (cls as unknown as { populate(o: PopulateOptions): Promise<PopulateResult> }).populate({ ...opts, maxCalls: left });
    calls += r.success + r.error;
    out[name] = r;
  }
  return out;
}

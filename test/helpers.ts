/**
 * Shared test setup: integration tests talk to the real server of their vitest project's
 * backend, configured through the DJ_* environment (see vitest.config.ts), and use schemas
 * named `djtest_<name>_<pid>`, unique per file and process so files can run in parallel.
 */
import * as dj from '../src/index.js';

// Run outside a vitest project (e.g. a fixture started by hand): MariaDB on localhost.
if (!process.env.DJ_BACKEND) {
  dj.config.set('database.backend', 'mysql');
  dj.config.set('database.host', '127.0.0.1');
  dj.config.set('database.user', 'root');
  dj.config.set('database.password', '');
}
dj.config.set('safemode', false);

export { dj };

/** The backend this test process runs against. */
export const BACKEND = (process.env.DJ_BACKEND ?? 'mysql') as 'mysql' | 'postgresql' | 'embedded';

/** A fresh (dropped and recreated on first use) schema for one test file. */
export async function freshSchema(name: string, opts: dj.SchemaOptions = {}): Promise<dj.SchemaDecorator> {
  const database = `djtest_${name}_${process.pid}`;
  const s = dj.schema(database, opts);
  await s.drop({ prompt: false });
  return s;
}

/** Drop the given schemas and close connections (use in afterAll). */
export async function cleanup(...schemas: Array<{ drop(o: { prompt: boolean }): Promise<void> }>): Promise<void> {
  for (const s of schemas.reverse()) await s.drop({ prompt: false }).catch(() => {});
  await dj.closeAll();
}

/** SQL text with identifiers quoted MySQL-style, so SQL-shape assertions read the same on every backend. */
export function norm(sql: string): string {
  return sql.replace(/"/g, '`');
}

/** A Manual table class named `name` with `definition`, added to `schema` (tests that declare many small tables). */
export function manualTable(schema: dj.SchemaDecorator, name: string, definition: string): typeof dj.Manual {
  const cls = { [name]: class extends dj.Manual {} }[name]!;
  (cls as { definition?: string }).definition = definition;
  schema.add(cls);
  return cls;
}

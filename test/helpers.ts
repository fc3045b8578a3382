/**
 * Shared test setup: every test file talks to the real MariaDB/MySQL given by DJ_HOST
 * (default 127.0.0.1:3306, root, empty password) and uses schemas named `djtest_<name>`,
 * unique per file and process so files can run in parallel.
 */
import * as dj from '../src/index.js';

dj.config.set('database.host', process.env.DJ_HOST ?? '127.0.0.1');
if (process.env.DJ_PORT) dj.config.set('database.port', Number(process.env.DJ_PORT));
dj.config.set('database.user', process.env.DJ_USER ?? 'root');
dj.config.set('database.password', process.env.DJ_PASS ?? '');
dj.config.set('safemode', false);

export { dj };

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

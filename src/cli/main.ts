#!/usr/bin/env node
/**
 * `dj` / `datajoint` command line (API.md §8): a REPL with `dj` loaded, connection flags,
 * `-s db:alias` virtual schemas, `--version`.
 */
import { readFileSync } from 'node:fs';
import { start } from 'node:repl';
import { Command } from 'commander';
import * as dj from '../index.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('dj')
  .description('DataJoint for TypeScript: interactive shell with `dj` loaded')
  .version(pkg.version, '-V, --version')
  .option('--host <host[:port]>', 'database host (overrides DJ_HOST)')
  .option('-u, --user <user>', 'database user')
  .option('-p, --password <password>', 'database password')
  .option('-s, --schemas <db:alias...>', 'load virtual schemas, e.g. -s my_lab:lab')
  .option('-e, --eval <code>', 'evaluate JavaScript with `dj` and the schemas in scope, print the result, and exit');

program.parse();
const opts = program.opts<{ host?: string; user?: string; password?: string; schemas?: string[]; eval?: string }>();
if (opts.host) dj.config.set('database.host', opts.host);
if (opts.user) dj.config.set('database.user', opts.user);
if (opts.password !== undefined) dj.config.set('database.password', opts.password);

const scope: Record<string, unknown> = { dj };
try {
  for (const spec of opts.schemas ?? []) {
    const [db, alias] = spec.split(':');
    if (!db) throw new dj.DataJointError(`Invalid schema spec "${spec}": use db_name[:alias]`);
    scope[alias ?? db] = await dj.virtualSchema(db);
  }
  if (opts.eval !== undefined) {
    const fn = new Function(...Object.keys(scope), `return (async () => (${opts.eval}))();`) as (...a: unknown[]) => Promise<unknown>;
    const result = await fn(...Object.values(scope));
    console.log(typeof result === 'string' ? result : result);
    await dj.closeAll();
  } else {
    console.log(`DataJoint ${pkg.version} — \`dj\` is loaded${Object.keys(scope).length > 1 ? `; schemas: ${Object.keys(scope).slice(1).join(', ')}` : ''}`);
    const r = start({ prompt: 'dj> ', useGlobal: true });
    Object.assign(r.context, scope);
    r.on('exit', () => {
      void dj.closeAll().then(() => process.exit(0));
    });
  }
} catch (err) {
  console.error(`dj: ${(err as Error).message}`);
  await dj.closeAll();
  process.exit(1);
}

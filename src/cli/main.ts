#!/usr/bin/env node
/**
 * `dj` / `datajoint` command line (API.md §8): a REPL with `dj` loaded (`-e` evaluates and
 * exits, `-s db:alias` loads virtual schemas), and sub-commands for the embedded server and
 * schema diagrams. Connection flags apply to every sub-command.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import * as dj from '../index.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface GlobalOptions {
  host?: string;
  user?: string;
  password?: string;
  backend?: string;
  schemas?: string[];
  eval?: string;
}

/** Run a sub-command's body, close connections, and exit with its code. */
async function run(body: () => Promise<number>): Promise<never> {
  let code = 1;
  try {
    code = await body();
  } catch (err) {
    console.error(`dj: ${(err as Error).message}`);
  }
  await dj.closeAll().catch(() => {});
  process.exit(code);
}

const program = new Command()
  .name('dj')
  .description('DataJoint for TypeScript: an interactive shell with `dj` loaded, and pipeline commands')
  .version(pkg.version, '-V, --version')
  .option('--host <host[:port]>', 'database host (overrides DJ_HOST)')
  .option('-u, --user <user>', 'database user')
  .option('-p, --password <password>', 'database password')
  .option('--backend <name>', "database backend: 'mysql', 'postgresql' or 'embedded' (overrides DJ_BACKEND)")
  .option('-s, --schemas <db:alias...>', 'load virtual schemas, e.g. -s my_lab:lab')
  .option('-e, --eval <code>', 'evaluate JavaScript with `dj` and the schemas in scope, print the result, and exit')
  .hook('preAction', (cmd) => {
    const o = cmd.opts<GlobalOptions>();
    if (o.backend) dj.config.set('database.backend', o.backend);
    if (o.host) dj.config.set('database.host', o.host);
    if (o.user) dj.config.set('database.user', o.user);
    if (o.password !== undefined) dj.config.set('database.password', o.password);
  })
  .action(() => run(() => repl(program.opts<GlobalOptions>())));

program
  .command('embedded')
  .description('status, start or stop the embedded PostgreSQL server of this project (database.embedded.dir)')
  .argument('<action>', 'status | start | stop')
  .option('--dir <path>', 'the server directory (default: .datajoint/embedded beside datajoint.json, else here)')
  .option('--json', 'print one JSON object')
  .action((action: string, o: { dir?: string; json?: boolean }) =>
    run(async () => {
      if (!['status', 'start', 'stop'].includes(action)) throw new dj.DataJointError(`Unknown action "${action}": use status, start or stop`);
      const { runEmbeddedCommand } = await import('./embedded.js');
      return runEmbeddedCommand(action as 'status' | 'start' | 'stop', o);
    }),
  );

program
  .command('diagram')
  .description('draw the diagram of a schema: DOT on stdout, or a file by its extension (.svg .png .dot .mmd)')
  .argument('<db_name>', 'the schema (database) to draw')
  .option('-o, --output <file>', 'write to this file (.svg, .png, .dot or .mmd)')
  .action((database: string, o: { output?: string }) =>
    run(async () => {
      const { runDiagramCommand } = await import('./diagram.js');
      return runDiagramCommand(database, o);
    }),
  );

/** The interactive shell (or `-e`): `dj` and the requested virtual schemas in scope. */
async function repl(opts: GlobalOptions): Promise<number> {
  const scope: Record<string, unknown> = { dj };
  for (const spec of opts.schemas ?? []) {
    const [db, alias] = spec.split(':');
    if (!db) throw new dj.DataJointError(`Invalid schema spec "${spec}": use db_name[:alias]`);
    scope[alias ?? db] = await dj.virtualSchema(db);
  }
  if (opts.eval !== undefined) {
    const fn = new Function(...Object.keys(scope), `return (async () => (${opts.eval}))();`) as (...a: unknown[]) => Promise<unknown>;
    console.log(await fn(...Object.values(scope)));
    return 0;
  }
  console.log(`DataJoint ${pkg.version} — \`dj\` is loaded${Object.keys(scope).length > 1 ? `; schemas: ${Object.keys(scope).slice(1).join(', ')}` : ''}`);
  const { start } = await import('node:repl');
  const r = start({ prompt: 'dj> ', useGlobal: true });
  Object.assign(r.context, scope);
  // The shell runs until the user leaves it.
  return new Promise<number>((resolve) => r.on('exit', () => resolve(0)));
}

await program.parseAsync();

/**
 * `dj` / `datajoint` command line (API.md §8), loaded by main.ts: a REPL with `dj` loaded (`-e` evaluates and
 * exits, `-s db:alias` loads virtual schemas), and sub-commands to populate a pipeline (once or
 * as a worker), for a schema's status, schema diagrams and the embedded server. Connection
 * flags apply to every sub-command. Each sub-command's module is imported only when it runs.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { REPLEval } from 'node:repl';
import * as dj from '../index.js';
import { releaseSignals } from './held-signals.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface GlobalOptions {
  host?: string;
  user?: string;
  password?: string;
  backend?: string;
  schemas?: string[];
  eval?: string;
}

/**
 * Run a sub-command's body, close connections, and exit with its code. A signal held while the
 * library loaded (main.ts) ends the process as it would have then; `dj populate` takes it over
 * instead (it drains on it).
 */
async function run(body: () => Promise<number>, { drains = false } = {}): Promise<never> {
  if (!drains) {
    const held = releaseSignals();
    if (held) process.kill(process.pid, held);
  }
  let code = 1;
  try {
    code = await body();
  } catch (err) {
    console.error(`dj: ${(err as Error).message}`);
  }
  await dj.closeAll().catch(() => {});
  process.exit(code);
}

const program: Command = new Command()
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
  // Words after `dj` that name no sub-command are a mistyped one (commander would report "too
  // many arguments" for the shell, which takes none).
  .allowExcessArguments()
  .action(() => (program.args.length ? unknownCommand(program.args[0]!) : run(() => repl(program.opts<GlobalOptions>()))))
  .addHelpText(
    'after',
    `
The connection comes from datajoint.json and the DJ_* environment (DJ_BACKEND, DJ_HOST, DJ_USER,
DJ_PASS, ...); the flags above override them. Without a sub-command, dj starts an interactive
shell with \`dj\` loaded.

Examples:
  $ dj -s my_lab:lab                       shell with the schema my_lab loaded as \`lab\`
  $ dj -s my_lab:lab -e "lab.Session.count()"
  $ dj populate ./pipeline.js --reserve-jobs --loop    a populate worker
  $ dj status my_lab                       rows and jobs per table
  $ dj diagram my_lab -o my_lab.svg
  $ dj embedded status`,
  );

program
  .command('populate')
  .description('populate the auto-populated tables of a pipeline module, once or as a worker (--loop) beside any number of others')
  .argument('<module>', 'the pipeline module: a .js or .ts file (relative to this directory) or a package specifier')
  .argument('[tables...]', 'tables to populate (class names, or database.Class); default: every Computed and Imported table of the module\'s schemas')
  .option('--processes <n>', 'worker threads per table (populate({ processes }))')
  .option('--reserve-jobs', 'reserve each key in the jobs table first: needed when several workers share a database')
  .option('--max-calls <n>', 'stop after this many makes, counted across all tables')
  .option('--loop', 'keep working: poll for new keys until SIGTERM or SIGINT (an unreachable database is waited out)')
  .option('--idle <seconds>', 'with --loop: seconds between polls while nothing is pending (default 10)')
  .addHelpText(
    'after',
    `
Tables are populated upstream first (with --reserve-jobs each round refreshes their jobs). A line
per table reports what each populate call made, failed and skipped, and how many keys are left.

SIGTERM or SIGINT drains the worker: it deals no new keys, lets the make in flight finish (for
up to populate.grace_period seconds, DJ_POPULATE_GRACE_PERIOD, default 10; past that the make is
rolled back and its job marked error), releases the jobs it reserved but did not start, and
exits: with 0 under --loop, with 130/143 otherwise (the run did not finish). A second signal
exits at once. Without --loop the exit code is 1 when a make failed.

With --processes N, DJ_POPULATE_ADAPTIVE_START=1 (populate.adaptive_start) makes the keys of a
call too short to pay for starting N threads on the main thread, and starts the threads only
once the work left does.

Examples:
  $ dj populate ./pipeline.js                      every table, once, upstream first
  $ dj populate ./pipeline.ts Analysis --processes 4
  $ dj populate ./pipeline.js --reserve-jobs --loop --idle 30    a worker (run as many as you like)
  $ dj populate @lab/pipeline --reserve-jobs --max-calls 100`,
  )
  .action((module: string, tables: string[], o: Record<string, string | boolean | undefined>) =>
    run(
      async () => {
        const { runPopulateCommand } = await import('./populate.js');
        return runPopulateCommand(module, tables, o);
      },
      { drains: true },
    ),
  );

program
  .command('status')
  .description('show each table of a schema with its tier, rows, and (auto-populated tables) jobs by status')
  .argument('<db_name>', 'the schema (database) to report on')
  .option('--json', 'print JSON: [{ table, fullTableName, tier, rows, jobs: { pending, reserved, success, error, ignore } }]')
  .addHelpText(
    'after',
    `
Tables are listed parents first. Jobs are read from the schema's existing jobs tables (~~name);
status creates nothing, so a table never populated with reserveJobs shows zero jobs.

Examples:
  $ dj status my_lab
  $ dj status my_lab --json | jq '.[] | select(.jobs.error > 0)'`,
  )
  .action((database: string, o: { json?: boolean }) =>
    run(async () => {
      const { runStatusCommand } = await import('./status.js');
      return runStatusCommand(database, o);
    }),
  );

program
  .command('embedded')
  .description('status, start or stop the embedded PostgreSQL server of this project (database.embedded.dir)')
  .argument('<action>', 'status | start | stop')
  .option('--dir <path>', 'the server directory (default: .datajoint/embedded beside datajoint.json, else here)')
  .option('--json', 'print one JSON object')
  .addHelpText(
    'after',
    `
status exits with 0 when the server runs and 3 when it does not (pg_ctl's convention). start is
not needed before using the embedded backend: the library starts the server when it connects.

Examples:
  $ dj embedded status --json
  $ dj embedded stop --dir .datajoint/embedded`,
  )
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
  .addHelpText(
    'after',
    `
Rendered in-process (no system Graphviz needed).

Examples:
  $ dj diagram my_lab -o my_lab.png
  $ dj diagram my_lab > my_lab.dot`,
  )
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
  // Lines piped in (`dj < script.txt`) arrive before the awaited line above them finishes: each
  // is evaluated after the one before it (`const n = await …` then `n + 1`), as a person at the
  // prompt would. And `.exit` can arrive while an awaited query still runs: the shell ends only
  // after the evaluations in flight finish, or the connections closing would fail them.
  let last: Promise<void> = Promise.resolve();
  const evaluate = r.eval;
  (r as { eval: REPLEval }).eval = (code, context, file, cb) => {
    const before = last;
    let settle!: () => void;
    last = new Promise<void>((resolve) => (settle = resolve));
    void before.then(() =>
      evaluate.call(r, code, context, file, (err, result) => {
        settle();
        cb(err, result);
      }),
    );
  };
  return new Promise<number>((resolve) => r.on('exit', () => void last.then(() => resolve(0))));
}

await program.parseAsync();

/** Exits with commander's error for a word that is no sub-command, naming the closest one. */
function unknownCommand(word: string): never {
  const names = program.commands.map((c) => c.name());
  const distance = (a: string, b: string) => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row;
    }
    return prev[b.length]!;
  };
  const near = names.filter((n) => distance(word, n) <= Math.max(1, Math.floor(n.length / 3)));
  const hint = near.length ? ` (Did you mean ${near.join(' or ')}?)` : ` (commands: ${names.join(', ')})`;
  program.error(`error: unknown command '${word}'${hint}`, { code: 'dj.unknownCommand' });
}

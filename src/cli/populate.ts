/**
 * `dj populate <module> [Table ...]` (API.md §8): import a pipeline module, find the
 * auto-populated tables of the schemas it defines, and run the populate worker on them
 * (src/populate/worker.ts): once, or as a long-running worker with --loop. This module turns
 * the command line into the worker's inputs and its events into lines a person (or a log
 * collector) can read: one line per table per populate call, one per idle spell, a summary.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hostname } from 'node:os';
import { DataJointError } from '../errors.js';
import { Schema } from '../schema/schema.js';
import { threadRegistry } from '../schema/registry.js';
import { AutoPopulate } from '../populate/auto-populate.js';
import { autoPopulatedInOrder } from '../populate/schema-populate.js';
import { Drain, exitCode } from '../populate/signals.js';
import { releaseSignals } from './held-signals.js';
import { runWorker, untilAvailable, type TableReport, type WorkerOptions, type WorkerSummary, type WorkerTable } from '../populate/worker.js';

/** The options as commander hands them over (numbers still as text). */
export interface PopulateCommandOptions {
  processes?: string;
  reserveJobs?: boolean;
  maxCalls?: string;
  loop?: boolean;
  idle?: string;
}

export interface PopulateCommandIO {
  /** Progress lines (default: stdout). */
  out?: (text: string) => void;
  /** Failures and errors (default: stderr). */
  err?: (text: string) => void;
}

/** A module argument as something import() takes: a file URL for paths, else a package specifier. */
export function moduleUrl(spec: string, cwd = process.cwd()): string {
  if (spec.startsWith('file:')) return spec;
  const path = resolve(cwd, spec);
  const looksLikePath = /^\.{0,2}\//.test(spec) || /\.(m|c)?(j|t)sx?$/.test(spec) || (existsSync(path) && statSync(path).isFile());
  if (!looksLikePath) return spec;
  if (!existsSync(path)) throw new DataJointError(`Module ${spec} not found (no file ${path})`);
  return pathToFileURL(path).href;
}

/** Import the module; resolves to the activated schemas it registered (itself or through its imports). */
export async function loadPipeline(spec: string): Promise<Schema[]> {
  const url = moduleUrl(spec);
  const registry = threadRegistry();
  const before = new Set(registry.list());
  const { loadModule } = await import('../../workers/load-module.mjs');
  try {
    await loadModule(url);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === 'ERR_MODULE_NOT_FOUND' && url === spec && err.message.includes(`'${spec}'`))
      throw new DataJointError(`Cannot find the package ${spec} (a package is looked up where datajoint is installed; give a file path such as ./pipeline.js instead)`, { cause: e });
    throw new DataJointError(`Importing ${spec} failed: ${err.message}`, { cause: e });
  }
  const added = registry.list().filter((s) => !before.has(s));
  const schemas = [...new Set(added)].filter((s): s is Schema => s instanceof Schema && s.isActivated);
  if (!schemas.length) {
    if (added.length) throw new DataJointError(`${spec} defines schemas with another copy of datajoint than this dj command's: run the dj of the project that defines them (npx dj)`);
    throw new DataJointError(`${spec} defines no DataJoint schema: it (or a module it imports) should create one with dj.schema('database_name')`);
  }
  return schemas;
}

/** The tables to populate, upstream first: the named ones (`Class` or `database.Class`), or all. */
export async function selectTables(schemas: Schema[], names: string[], spec: string): Promise<WorkerTable[]> {
  const all = await autoPopulatedInOrder(...schemas);
  const ambiguous = new Set(all.map(([n]) => n).filter((n, i, a) => a.indexOf(n) !== i));
  const label = (name: string, cls: typeof AutoPopulate) => (ambiguous.has(name) ? `${cls.database}.${name}` : name);
  const candidates = all.map(([name, cls]) => ({ label: label(name, cls), name, cls }));
  const available = () => (candidates.length ? `its auto-populated tables: ${candidates.map((c) => c.label).join(', ')}` : 'it has no auto-populated tables');
  if (!names.length) {
    if (!candidates.length) throw new DataJointError(`Nothing to populate: the schemas of ${spec} (${schemas.map((s) => s.database).join(', ')}) have no Computed or Imported tables`);
    return candidates.map(({ label, cls }) => ({ label, cls }));
  }
  const chosen = new Set<(typeof candidates)[number]>();
  for (const wanted of names) {
    const matches = candidates.filter((c) => c.name === wanted || `${c.cls.database}.${c.name}` === wanted);
    if (matches.length > 1) throw new DataJointError(`Table ${wanted} is in several schemas of ${spec}: name it as ${matches.map((m) => `${m.cls.database}.${m.name}`).join(' or ')}`);
    if (matches.length === 1) {
      chosen.add(matches[0]!);
      continue;
    }
    const other = schemas.find((s) => s.classByName(wanted) ?? (wanted.includes('.') && s.database === wanted.split('.')[0] && s.classByName(wanted.split('.')[1]!)));
    if (other) throw new DataJointError(`Table ${wanted} is not auto-populated (only Computed and Imported tables are): ${available()}`);
    throw new DataJointError(`No table ${wanted} in the schemas of ${spec} (${schemas.map((s) => s.database).join(', ')}): ${available()}`);
  }
  return candidates.filter((c) => chosen.has(c)).map(({ label, cls }) => ({ label, cls }));
}

/** A non-negative integer (or a positive one) from the command line. */
function integer(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new DataJointError(`${flag} must be ${min > 0 ? 'a positive' : 'a non-negative'} integer, got "${value}"`);
  return n;
}

/** The worker's options from the command line, checked. */
export function workerOptions(o: PopulateCommandOptions): WorkerOptions {
  const idle = o.idle === undefined ? undefined : Number(o.idle);
  if (idle !== undefined && !(Number.isFinite(idle) && idle >= 0)) throw new DataJointError(`--idle must be a number of seconds (0 or more), got "${o.idle}"`);
  if (idle !== undefined && !o.loop) throw new DataJointError('--idle only applies with --loop');
  return {
    processes: integer(o.processes, '--processes', 1),
    reserveJobs: Boolean(o.reserveJobs),
    maxCalls: integer(o.maxCalls, '--max-calls', 0),
    loop: Boolean(o.loop),
    idleSeconds: idle,
  };
}

const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const showKey = (key: unknown) => JSON.stringify(key, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

/** One table's line: what this populate call did, and what is left. */
export function formatReport(r: TableReport): string {
  const { success, error, skip } = r.result;
  const rate = r.seconds > 0 ? ` (${(success / r.seconds).toFixed(1)} keys/s)` : '';
  const left = Number.isNaN(r.remaining) ? '' : `; ${r.remaining} of ${r.total} keys left`;
  return `${stamp()} ${r.label}: ${success} made, ${error} failed, ${skip} skipped in ${r.seconds.toFixed(1)} s${rate}${left}`;
}

/** Run the command; resolves to the exit code. */
export async function runPopulateCommand(spec: string, names: string[], o: PopulateCommandOptions, io: PopulateCommandIO = {}): Promise<number> {
  const out = io.out ?? ((t: string) => void process.stdout.write(t));
  const err = io.err ?? ((t: string) => void process.stderr.write(t));
  let drain: Drain | null = null;
  try {
    const opts = workerOptions(o);
    // From the start, so that a signal while the module loads also stops the worker cleanly. A
    // worker stopped by a signal has done its job (exit 0); a single run has not (130/143).
    drain = Drain.start({ name: 'dj populate', stoppedCode: opts.loop ? () => 0 : exitCode });
    // A signal that came while the command loaded (main.ts held it) stops the worker too.
    const held = releaseSignals();
    if (held) drain.deliver(held);
    const t0 = performance.now();
    const unavailable = (e: Error, s: number) => err(`${stamp()} dj populate: the database is unavailable (${e.message}); trying again in ${s} s\n`);
    const schemas = await loadPipeline(spec);
    const tables = await untilAvailable(() => selectTables(schemas, names, spec), drain, opts, unavailable);
    if (!tables) {
      out(`${stamp()} dj populate: stopped by ${drain.signal} (the database never answered): 0 made, 0 failed, 0 skipped in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      return drain.stoppedCode(drain.signal!);
    }
    if (opts.loop && !opts.reserveJobs)
      err(`dj populate: --loop without --reserve-jobs: failed keys are tried again every round, and workers on other machines may make the same keys (only one insert wins); add --reserve-jobs\n`);
    /** The last line: why the worker stopped, and what it did in all. */
    const sayEnd = (summary: WorkerSummary) => {
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      const why = summary.stoppedBy ? `stopped by ${summary.stoppedBy}${summary.interrupted ? ' (a make past the grace period was rolled back)' : ''}` : summary.maxCallsReached ? 'max-calls reached' : 'done';
      out(`${stamp()} dj populate: ${why}: ${summary.success} made, ${summary.error} failed, ${summary.skip} skipped in ${seconds} s\n`);
    };
    out(`${stamp()} dj populate ${hostname()}:${process.pid}: ${tables.map((t) => t.label).join(', ')} from ${schemas.map((s) => s.database).join(', ')}${opts.loop ? `; looping, idle polls every ${opts.idleSeconds ?? 10} s` : ''}\n`);
    const summary = await runWorker(tables, drain, { ...opts, displayProgress: !opts.loop && Boolean(process.stderr.isTTY) }, {
      table(r) {
        out(`${formatReport(r)}\n`);
        for (const { key, error } of r.result.errors.slice(0, 5)) err(`dj populate: ${r.label} ${showKey(key)} failed: ${error.name}: ${error.message.split('\n')[0]}\n`);
        if (r.result.errors.length > 5) err(`dj populate: ${r.label}: ${r.result.errors.length - 5} more failures${opts.reserveJobs ? ` (see ${r.label}.jobs.errors)` : ''}\n`);
      },
      idle: (s) => out(`${stamp()} idle: nothing to make; polling every ${s} s\n`),
      unavailable,
      forcedExit: (s) => sayEnd(s),
    });
    sayEnd(summary);
    if (summary.stoppedBy) return drain.stoppedCode(summary.stoppedBy);
    return summary.error && !opts.loop ? 1 : 0;
  } catch (e) {
    err(`dj populate: ${(e as Error).message}\n`);
    return 1;
  } finally {
    drain?.stop();
  }
}

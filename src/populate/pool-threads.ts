/**
 * The worker threads of populate({ processes: N }): the task and result shapes that cross the
 * thread boundary, and the Piscina pools themselves, shared by every table module, kept between
 * populate calls (thread start-up is paid once) and closed by dj.closeAll(). Errors as data are
 * in worker-errors.ts; the scheduling of keys over the pools is in pool.ts.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { DataJointError } from '../errors.js';
import { onCloseAll } from '../connection/connection.js';
import type { Row } from '../fetch/fetch.js';
import { restack, reviveError, type WorkerError } from './worker-errors.js';

export interface WorkerTask {
  /** 'makeMany': make a chunk of keys; 'compute': the compute step of a three-part make;
   *  'warm': load the table module and open the thread's connection, nothing else. */
  op: 'makeMany' | 'compute' | 'warm';
  module: string;
  database: string;
  className: string;
  key: Row;
  keys?: Row[];
  fetched?: unknown;
  makeKwargs?: Record<string, unknown>;
  reserveJobs?: boolean;
  config: Record<string, unknown>;
  /** The caller's dropGeneration() (table/drop-generation.ts): a thread that sees it change forgets what it knew declared. */
  drops?: number;
  /** Shared with the worker: the index in `keys` of the make it is on (-1 before the first). */
  progress?: Int32Array;
  /** Shared with every thread of the call: set when populate must start no new make (signals.ts sharedStopFlag). */
  stop?: Int32Array;
  /** Imported before a TypeScript table module's loader is registered (workers/load-module.mjs). */
  preload?: string;
  /** The module compiled to JavaScript (compile-module.ts): what the thread imports instead of `module`. */
  load?: string;
}

/** What a worker reports for a chunk. */
export interface WorkerChunkResult {
  /** Time the worker spent on the chunk (no queueing): what chunk sizes are planned from. */
  ms: number;
  success: number;
  error: number;
  skip: number;
  errors: Array<{ key: Row; error: WorkerError }>;
  /** The database became unreachable: the chunk stopped there (outage.ts). */
  outage?: WorkerError;
  /** With `outage`: keys whose COMMIT it left unknown (outage.ts). */
  unsettled?: Row[];
  /** DataJointWarnings the thread said, for the calling thread to say once (make.ts warnOnce). */
  warnings?: string[];
}

/**
 * The compiled entry of this copy of datajoint (null when it runs from its TypeScript sources):
 * the table module imports this copy (its class and this code come from it), so a worker can
 * load it before registering tsx for the module (workers/load-module.mjs).
 */
export const libraryEntry: string | null = import.meta.url.endsWith('.js') ? new URL('../index.js', import.meta.url).href : null;

const workerFile = fileURLToPath(new URL('../../workers/populate-worker.mjs', import.meta.url));

/**
 * One pool per thread count and configuration, shared by every table module: a thread imports
 * each module the first time a task names it, so a second module's first populate call finds
 * threads already running, with the library loaded and its hot paths compiled (what most of a
 * first call's start-up is). A thread takes its settings (server, credentials) from its first
 * task, so populate calls made under other settings get threads of their own. Pools are kept
 * between populate calls and closed by dj.closeAll(); idle threads do not keep the process alive.
 */
const pools = new Map<string, Piscina>();
const poolId = (processes: number, settings: Record<string, unknown>) => `${processes}|${JSON.stringify(settings)}`;
/** The pool kept for this thread count and configuration, if there is one (nothing started). */
export const keptPool = (processes: number, settings: Record<string, unknown>): Piscina | null => pools.get(poolId(processes, settings)) ?? null;
/** The pool for this thread count and configuration; a new pool starts its threads at once. */
export function getPool(processes: number, settings: Record<string, unknown>): Piscina {
  const id = poolId(processes, settings);
  let pool = pools.get(id);
  if (!pool) {
    pool = new Piscina({ filename: workerFile, minThreads: processes, maxThreads: processes, idleTimeout: 30_000, execArgv: workerExecArgv() });
    pools.set(id, pool);
    if (pools.size === 1) onCloseAll(closePools);
  }
  return pool;
}
/**
 * The flags populate's worker threads start with: the parent's, without tsx's loader and without
 * those a worker thread refuses. A process started through tsx (`tsx app.ts`) would have every
 * worker thread boot tsx's loader (about 0.3 s each) only for it to stay inactive there; the
 * workers register tsx themselves when the table module is TypeScript (workers/load-module.mjs),
 * and a JavaScript module then starts without it.
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  return flagsOf(withoutTsx(argv)).filter(acceptedByWorkers).flat();
}

/** `argv` without tsx's --require/--import flags (a flag naming tsx only elsewhere stays). */
export function withoutTsx(argv: readonly string[]): string[] {
  const out: string[] = [];
  const takesValue = new Set(['--require', '-r', '--import', '--loader', '--experimental-loader']);
  const isTsx = (value: string | undefined) => /[\\/]tsx[\\/]|^tsx(\/|$)/.test(value ?? '');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (takesValue.has(a) && isTsx(argv[i + 1])) {
      i++;
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0 && takesValue.has(a.slice(0, eq)) && isTsx(a.slice(eq + 1))) continue;
    out.push(a);
  }
  return out;
}

/** Flags with their separate values (`--import x`): a word not starting with '-' belongs to the flag before it. */
function flagsOf(argv: readonly string[]): string[][] {
  const flags: string[][] = [];
  for (const a of argv) {
    if (a.startsWith('-') || !flags.length) flags.push([a]);
    else flags[flags.length - 1]!.push(a);
  }
  return flags;
}

const accepted = new Map<string, boolean>();
/**
 * Whether a worker thread accepts `flag`. Worker refuses V8 flags (--max-old-space-size,
 * --expose-gc, --stack-size) and per-process options (--title, --v8-pool-size) with
 * ERR_WORKER_INVALID_EXEC_ARGV, and a pool given one could not start at all. Those flags are in
 * effect for the whole process, its worker threads included (V8's are process-wide: a worker's
 * heap limit follows --max-old-space-size), so leaving them out loses nothing. Probed once per
 * flag with a Worker whose data cannot be sent: Node checks the flags, then fails on the data
 * before any thread starts (one that started anyway is stopped at once).
 */
function acceptedByWorkers(flag: string[]): boolean {
  const id = flag.join('\0');
  let ok = accepted.get(id);
  if (ok === undefined) {
    try {
      void new Worker('', { eval: true, execArgv: flag, workerData: Symbol('not sendable') }).terminate();
      ok = true;
    } catch (e) {
      ok = (e as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV';
    }
    accepted.set(id, ok);
  }
  return ok;
}

/** Stop a pool (a signal's abort: its threads' makes are rolled back with their connections). */
export async function destroyPool(pool: Piscina): Promise<void> {
  for (const [id, p] of pools) {
    if (p !== pool) continue;
    pools.delete(id);
    await pool.destroy(); // only a pool still kept: closePools may have destroyed it already
  }
}
/** Stop every populate worker pool (dj.closeAll() calls this). */
export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.destroy()));
}

/** Per pool, the table modules every one of its threads has loaded (ready without delay). */
const warmed = new WeakMap<Piscina, Set<string>>();

/** Whether every thread of `pool` has loaded `module` (a call on it pays no start-up). */
export const isWarm = (pool: Piscina, module: string): boolean => warmed.get(pool)?.has(module) ?? false;

/**
 * What warming took last time (ms): threads started for a new pool ('threads'), or a module
 * loaded by threads already running ('module'). Guesses until measured in this process.
 */
const lastWarmMs = { threads: 1000, module: 300 };
/** Which warm-up a module on `pool` (none yet: a new pool) would need. */
const warmKind = (pool: Piscina | null): keyof typeof lastWarmMs => (pool && warmed.has(pool) ? 'module' : 'threads');
/** What warming a module on `pool` should take, by the last such warm-up in this process. */
export const expectedWarmMs = (pool: Piscina | null): number => lastWarmMs[warmKind(pool)];

/** One warm task per thread (each thread takes one: a warm task keeps it busy until loaded). */
export async function warmPool(pool: Piscina, processes: number, task: WorkerTask): Promise<void> {
  if (isWarm(pool, task.module)) return;
  const kind = warmKind(pool);
  const t0 = performance.now();
  const results = (await Promise.all(Array.from({ length: processes }, () => pool.run(task)))) as Array<{ warmFailed?: WorkerError } | null>;
  const failed = results.find((r) => r?.warmFailed)?.warmFailed;
  if (failed) throw reviveError(failed);
  lastWarmMs[kind] = performance.now() - t0;
  let modules = warmed.get(pool);
  if (!modules) warmed.set(pool, (modules = new Set()));
  modules.add(task.module);
}

/**
 * workers/populate-worker.mjs prefixes the errors of loading the table module with this, so a
 * module that workers cannot load stops populate at once (it is not a worker crash to retry).
 */
const MODULE_ERROR = '[datajoint:worker-module] ';
export function moduleLoadError(e: unknown): DataJointError | null {
  const message = e instanceof Error ? e.message : String(e);
  if (!message.startsWith(MODULE_ERROR)) return null;
  const err = new DataJointError(`populate worker threads could not load the table module: ${message.slice(MODULE_ERROR.length)}`);
  return restack(err, e instanceof Error ? e.stack : undefined); // where the thread failed
}

/**
 * populate({ processes: N }): makes run on a Piscina pool of N worker threads, each with its own
 * database connection. Keys are dealt out in bounded batches (at most 2·N in flight). A plain or
 * generator make runs entirely in the worker; a three-part make fetches and inserts here and
 * computes on the pool, with typed-array buffers transferred rather than copied.
 */
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { Piscina } from 'piscina';
import { DataJointError } from '../errors.js';
import { closeAll, onCloseAll } from '../connection/connection.js';
import { config } from '../config.js';
import type { Row } from '../fetch/fetch.js';
import { ProgressBar } from './progress-bar.js';
import { type AutoPopulateLike, type PopulateOptions, type PopulateResult, PopulateInterrupted, makeMode, pendingKeys, populateKeys } from './populate.js';
import { collectTransferables } from './transfer.js';

export interface WorkerTask {
  /** 'makeMany': make a chunk of keys; 'compute': the compute step of a three-part make. */
  op: 'makeMany' | 'compute';
  module: string;
  database: string;
  className: string;
  key: Row;
  keys?: Row[];
  fetched?: unknown;
  makeKwargs?: Record<string, unknown>;
  reserveJobs?: boolean;
  config: Record<string, unknown>;
}

/** What a worker reports for a chunk (errors as plain data: they cross a thread boundary). */
export interface WorkerChunkResult {
  success: number;
  error: number;
  skip: number;
  errors: Array<{ key: Row; error: { name: string; message: string; stack?: string } }>;
}

/** Work per chunk dealt to a worker (ms, by the measured time per key), and its key limit. */
const CHUNK_MS = 100;
const CHUNK_MAX = 64;

const workerFile = fileURLToPath(new URL('../../workers/populate-worker.mjs', import.meta.url));

function reviveError(e: { name: string; message: string; stack?: string }): Error {
  const err = new DataJointError(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

/**
 * Pools are kept between populate calls (thread start-up and module loading are paid once) and
 * closed by dj.closeAll(). Idle threads do not keep the process alive.
 */
const pools = new Map<string, Piscina>();
function getPool(moduleUrl: string, processes: number): Piscina {
  const id = `${processes}|${moduleUrl}`;
  let pool = pools.get(id);
  if (!pool) {
    pool = new Piscina({ filename: workerFile, minThreads: processes, maxThreads: processes, idleTimeout: 30_000 });
    pools.set(id, pool);
    if (pools.size === 1) onCloseAll(closePools);
  }
  return pool;
}
async function destroyPool(moduleUrl: string, processes: number): Promise<void> {
  const id = `${processes}|${moduleUrl}`;
  const pool = pools.get(id);
  pools.delete(id);
  await pool?.destroy();
}
/** Stop every populate worker pool (dj.closeAll() calls this). */
export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.destroy()));
}

export async function populateWithPool(t: AutoPopulateLike, opts: PopulateOptions, processes: number): Promise<PopulateResult> {
  const ctor = t.constructor as unknown as { name: string; schema: { module: string | null; database: string } };
  const moduleUrl = ctor.schema.module;
  if (!moduleUrl)
    throw new DataJointError(
      `populate({ processes: ${processes} }) runs ${ctor.name}.make on worker threads, which must import the module that defines it: create its schema with dj.schema('${ctor.schema.database}', { module: import.meta.url }) in that module (for an Element's deferred schema: schema.activate('${ctor.schema.database}', { module: import.meta.url }) in the module that activates it when imported).`,
    );
  if (moduleUrl.startsWith('file:') && !existsSync(fileURLToPath(moduleUrl))) throw new DataJointError(`The table module ${moduleUrl} does not exist`);
  const mode = makeMode(t);
  const result: PopulateResult = { success: 0, error: 0, skip: 0, errors: [] };
  let keys: Row[];
  if (opts.reserveJobs) {
    if (opts.refresh ?? Boolean(config.get('jobs.auto_refresh'))) await t.jobs.refresh({ restrict: opts.restrict, priority: opts.priority });
    keys = await t.jobs.pendingKeys({ priority: opts.priority, restrict: opts.restrict });
  } else keys = await pendingKeys(t, opts.restrict);
  const limit = Math.min(keys.length, opts.maxCalls ?? Infinity);
  const bar = opts.displayProgress ? new ProgressBar(limit, ctor.name) : null;

  const pool = getPool(moduleUrl, processes);
  const base = { module: moduleUrl, database: ctor.schema.database, className: ctor.name, makeKwargs: opts.makeKwargs, config: config.snapshot() };
  let stop: Error | null = null;
  let signal: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals) => {
    if (signal) return;
    signal = s;
    stop = new PopulateInterrupted(`populate interrupted by ${s}`);
    // Terminating the threads drops their connections: the server rolls back open makes.
    void destroyPool(moduleUrl, processes);
  };
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((s) => [s, () => onSignal(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);

  const recordError = (key: Row, err: Error) => {
    result.error++;
    result.errors.push({ key, error: err });
    if (!opts.suppressErrors && !stop) stop = err;
  };

  const absorb = (r: PopulateResult): number => {
    result.success += r.success;
    result.skip += r.skip;
    for (const e of r.errors) recordError(e.key, e.error);
    return r.success + r.error;
  };
  /** A three-part make: fetched and inserted here by the in-process key loop, computed on the pool. */
  const compute = (key: Row, fetched: unknown) => {
    const task: WorkerTask = { ...base, op: 'compute', key, fetched };
    return pool.run(task, { transferList: collectTransferables(fetched) });
  };
  const runThreePart = async (key: Row): Promise<number> =>
    absorb(await populateKeys(t, [key], { reserveJobs: opts.reserveJobs, makeKwargs: opts.makeKwargs, suppressErrors: true }, { inTx: false, compute }));
  /** A chunk of plain or generator makes, run by one worker with the in-process loop. */
  const runChunk = async (chunk: Row[]): Promise<number> => {
    const task: WorkerTask = { ...base, op: 'makeMany', key: chunk[0]!, keys: chunk, reserveJobs: opts.reserveJobs };
    const r = (await pool.run(task)) as WorkerChunkResult;
    return absorb({ ...r, errors: r.errors.map((e) => ({ key: e.key, error: reviveError(e.error) })) });
  };

  // Bounded dealing: at most 2·N tasks in flight, the key list walked lazily. Chunks hold about
  // CHUNK_MS of work by the measured time per key (one key while nothing is known), so fast
  // makes share transactions and round trips while slow ones still spread over the workers.
  const inFlight = new Set<Promise<void>>();
  let next = 0;
  let attempted = 0;
  let dealt = 0; // keys in tasks not yet returned
  let msPerKey = 0;
  const budget = () => (opts.maxCalls ?? Infinity) - attempted - dealt;
  try {
    while (next < keys.length && !stop && budget() > 0) {
      const size = mode === 'threePart' || msPerKey === 0 ? 1 : Math.max(1, Math.min(CHUNK_MAX, Math.floor(CHUNK_MS / msPerKey)));
      const chunk = keys.slice(next, next + Math.min(size, budget()));
      next += chunk.length;
      dealt += chunk.length;
      const t0 = performance.now();
      const p = (mode === 'threePart' ? runThreePart(chunk[0]!) : runChunk(chunk))
        .then((n) => void (attempted += n))
        .catch((e) => {
          if (!signal) for (const key of chunk) recordError(key, e instanceof Error ? e : new Error(String(e)));
        })
        .finally(() => {
          inFlight.delete(p);
          dealt -= chunk.length;
          const per = (performance.now() - t0) / chunk.length;
          msPerKey = msPerKey === 0 ? per : 0.7 * msPerKey + 0.3 * per;
          bar?.tick(chunk.length);
        });
      inFlight.add(p);
      if (inFlight.size >= 2 * processes) await Promise.race(inFlight);
    }
    await Promise.allSettled(inFlight);
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
    bar?.finish();
  }
  if (signal) {
    // Jobs reserved by the killed threads: mark them error so they are visible and retryable.
    if (opts.reserveJobs)
      await t.jobs.failReservedByThisProcess(`populate interrupted by ${signal}`).catch(() => {});
    process.stderr.write(`\npopulate: interrupted by ${signal}; open makes were rolled back.\n`);
    await closeAll().catch(() => {});
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }
  if (stop && !opts.suppressErrors) throw stop;
  return result;
}

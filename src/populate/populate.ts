/**
 * populate() (API.md §6; spec: autopopulate): compute every missing key of an auto-populated
 * table with make(), each make atomic (master and parts in one transaction). This module is the
 * entry point: where populate may run, which keys, in-process or on a worker pool, and what
 * happens after SIGINT/SIGTERM. The make forms live in make.ts, the key loop in key-loop.ts,
 * signal handling in signals.ts, the worker pool in pool.ts.
 */
import { DataJointError, DeadlockError } from '../errors.js';
import { config } from '../config.js';
import type { Connection } from '../connection/connection.js';
import type { QueryExpression } from '../expression/expression.js';
import type { Row } from '../fetch/fetch.js';
import type { Jobs } from './jobs.js';
import { type KeyLoopTable, LoopWatch, type PopulateOptions, type PopulateResult, populateKeys } from './key-loop.js';
import { activeMake, makeMode, notDone } from './make.js';
import { isOutage } from './outage.js';
import { ProgressBar } from './progress-bar.js';
import { Interrupts, PopulateInterrupted, within } from './signals.js';

export type { KeyLoopEnv, PopulateOptions, PopulateResult } from './key-loop.js';
export { LoopWatch, populateKeys } from './key-loop.js';
export { FetchedDataChanged, makeMode, runMake, type MakeMode, type MakeTable, type MakeContext } from './make.js';
export { PopulateInterrupted } from './signals.js';

export interface AutoPopulateLike extends KeyLoopTable {
  /** The keys to compute: the key source (restricted) projected to its primary key. */
  keySourceExpression(restrict?: unknown): Promise<QueryExpression>;
  selfExpression(): QueryExpression;
  readonly jobs: Jobs;
}

/** Set by populate's worker entry (workers/populate-worker.mjs) before it imports a table module. */
const WORKER_FLAG = Symbol.for('datajoint.populateWorker');

/** Whether this thread is one of populate's worker threads. */
export function isPopulateWorker(): boolean {
  return (globalThis as { [k: symbol]: unknown })[WORKER_FLAG] === true;
}

export const emptyResult = (): PopulateResult => ({ success: 0, error: 0, skip: 0, errors: [] });

/**
 * Refuse populate where DataJoint Python does: inside a make (a make populating its own table
 * would recurse without bound), on a worker thread too, and inside a transaction (the makes
 * would join it and a failure would undo unrelated work). False on a worker thread outside any
 * make: a populate evaluated there (say, at the top level of the table module the thread
 * imports) returns at once rather than start a populate and a pool of its own in every thread;
 * the connection is not even looked up then.
 */
export function populateAllowedHere(connection: () => Connection, table: string): boolean {
  const make = activeMake.getStore();
  if (make) throw new DataJointError(`Populate cannot be called inside a make (${table}.populate called from ${make}.make).`);
  if (isPopulateWorker()) return false;
  if (connection().inTransaction) throw new DataJointError(`Populate cannot be called during a transaction (${table}.populate).`);
  return true;
}

/** Pending keys in direct mode: (key source ∩ restriction) − table, as key objects. */
export async function pendingKeys(t: AutoPopulateLike, restrict: unknown, limit?: number): Promise<Row[]> {
  const ks = await t.keySourceExpression(restrict);
  const todo = ks.minus(t.selfExpression(), { semanticCheck: false });
  return todo.keys(limit !== undefined ? { limit } : {});
}

/**
 * The keys to make: pending jobs (after a refresh, unless off) or the missing keys. Concurrent
 * workers' refreshes can deadlock with each other's commits; the refresh retries, and when it
 * still fails under suppressErrors populate goes on with the queue as it is.
 */
export async function keysToMake(t: AutoPopulateLike, opts: PopulateOptions): Promise<Row[]> {
  if (!opts.reserveJobs) return pendingKeys(t, opts.restrict);
  await t.jobs.releaseRemembered(); // reservations an outage kept an earlier call from releasing
  if (opts.refresh ?? Boolean(config.get('jobs.auto_refresh'))) {
    try {
      await t.jobs.refresh({ restrict: opts.restrict, priority: opts.priority });
    } catch (err) {
      if (!(err instanceof DeadlockError) || !opts.suppressErrors) throw err;
      process.emitWarning(`${t.constructor.name}.jobs.refresh kept deadlocking with other workers; populating the queue as it is (${err.message})`, { type: 'DataJointWarning' });
    }
  }
  return t.jobs.pendingKeys({ priority: opts.priority, restrict: opts.restrict });
}

/**
 * Populate a declared table. Its caller (AutoPopulate.populate) has checked the options and
 * where populate is called (checkPopulateOptions, populateAllowedHere) before declaring.
 */
export async function populate(t: AutoPopulateLike, opts: PopulateOptions = {}): Promise<PopulateResult> {
  // A wrong count is said, not rounded: 1.5 or '4' (from untyped code) must not quietly run in-process.
  if (opts.processes !== undefined && (!Number.isInteger(opts.processes) || opts.processes < 1))
    throw new DataJointError(`processes must be a positive integer (the number of worker threads), got ${typeof opts.processes === 'string' ? `'${opts.processes}'` : String(opts.processes)}`);
  const processes = opts.processes ?? 1;
  if (opts.maxCalls !== undefined && (!Number.isInteger(opts.maxCalls) || opts.maxCalls < 0)) throw new DataJointError(`maxCalls must be a non-negative integer, got ${String(opts.maxCalls)}`);
  makeMode(t); // fail early when there is no make
  if (processes > 1) {
    const { populateWithPool } = await import('./pool.js');
    return populateWithPool(t, opts, processes);
  }
  const conn = t.connection;
  const keys = await keysToMake(t, opts);
  const bar = opts.displayProgress ? new ProgressBar(Math.min(keys.length, opts.maxCalls ?? Infinity), t.constructor.name) : null;
  const watch = new LoopWatch();
  let atSignal: Row[] = [];
  const interrupts = new Interrupts({
    abort() {
      atSignal = [...watch.inFlight];
      // Killing the open transaction's session makes the server roll it back; a COMMIT already
      // sent is left to finish (whether it did is checked before anything is reported).
      if (watch.tx === 'open') void conn.abortTransactions();
    },
    async beforeForcedExit(signal, why) {
      if (opts.reserveJobs) await settleWatched(t, watch, new PopulateInterrupted(`populate interrupted by ${signal}: ${why}`));
      return interruptReport(t, watch, atSignal, Boolean(opts.reserveJobs));
    },
    outcome: () => committedSoFar(watch),
  });
  let result: PopulateResult | null = null;
  try {
    result = await populateKeys(t, keys, opts, { bar, interrupts, watch });
  } catch (err) {
    // The database went away: the keys this call reserved are released by the next one.
    if (isOutage(err) && opts.reserveJobs) t.jobs.releaseLater(keys);
    if (!interrupts.signal) throw err;
  } finally {
    interrupts.dispose();
    bar?.finish();
  }
  if (!interrupts.signal) return result!;
  return interrupts.exit(await within(interruptReport(t, watch, atSignal, Boolean(opts.reserveJobs)), 5_000, ['(Could not check what committed.)']), committedSoFar(watch));
}

/** An interrupted key loop's result, which went with its error: the makes it watched commit. */
const committedSoFar = (watch: LoopWatch): PopulateResult => ({ success: watch.committed, error: 0, skip: 0, errors: [] });

/**
 * The jobs of a key loop cut short (a signal, a forced exit, a stopped pool): the key it was
 * making is marked error unless its make committed; every other key it held is pending again.
 * Releasing touches reserved jobs only, so keys it committed keep their completed job, and
 * keys of a group whose transaction died with it are pending again.
 */
export async function settleCutShort(t: AutoPopulateLike, current: Row | undefined, held: readonly Row[], err: Error): Promise<void> {
  if (current && (await notDone(t, [current]).catch(() => [current])).length) await t.jobs.error(current, err, 0).catch(() => {});
  await t.jobs.release(held.filter((k) => k !== current)).catch(() => {});
}

/** settleCutShort for an in-process key loop: the key it was on is the last in flight. */
export const settleWatched = (t: AutoPopulateLike, watch: LoopWatch, err: Error): Promise<void> => settleCutShort(t, watch.inFlight[watch.inFlight.length - 1], watch.unfinished, err);

/** Keys as a JSON array (the first 20), for messages a person or a script can read. */
const showKeys = (keys: Row[]) => JSON.stringify(keys.slice(0, 20), (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + (keys.length > 20 ? ` and ${keys.length - 20} more` : '');

/**
 * What an interrupted populate did, checked against the table (what committed is in it), so
 * that nothing is claimed rolled back that committed, or the reverse.
 */
export async function interruptReport(t: KeyLoopTable, watch: LoopWatch, atSignal: Row[], reserveJobs: boolean): Promise<string[]> {
  const lines = [`${watch.committed} make(s) committed in this run.`];
  if (!atSignal.length) return [...lines, 'No make was in progress when the signal arrived.'];
  const open = await notDone(t, atSignal);
  const committed = atSignal.filter((k) => !open.includes(k));
  if (open.length)
    lines.push(
      `In progress when the signal arrived and not committed (nothing of them is in the table): ${showKeys(open)}.${reserveJobs ? ' The job(s) being made are marked error; the others are pending again.' : ''}`,
    );
  if (committed.length) lines.push(`In progress when the signal arrived and committed before it took effect: ${showKeys(committed)}.`);
  return lines;
}

/**
 * populate() (API.md §6; spec: autopopulate): compute every missing key of an auto-populated
 * table with make(), each make atomic (master and parts in one transaction). This module is the
 * entry point: where populate may run, which keys (keys-to-make.ts), in-process or on a worker pool, and what
 * happens after SIGINT/SIGTERM. The make forms live in make.ts, the key loop in key-loop.ts,
 * signal handling in signals.ts, the worker pool in pool.ts.
 */
import { DataJointError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import type { Row } from '../fetch/fetch.js';
import { LoopWatch, type PopulateOptions, type PopulateResult, populateKeys } from './key-loop.js';
import { activeMake, makeMode } from './make.js';
import { type AutoPopulateLike, keysToMake } from './keys-to-make.js';
import { interruptReport, settleWatched } from './cut-short.js';
import { isOutage } from './outage.js';
import { ProgressBar } from './progress-bar.js';
import { Interrupts, PopulateInterrupted, within } from './signals.js';

export type { KeyLoopEnv, PopulateOptions, PopulateResult } from './key-loop.js';
export { LoopWatch, populateKeys } from './key-loop.js';
export { FetchedDataChanged, makeMode, runMake, type MakeMode, type MakeTable, type MakeContext } from './make.js';
export { PopulateInterrupted } from './signals.js';
export { emptyResult } from './options.js';
export type { AutoPopulateLike } from './keys-to-make.js';

/** Set by populate's worker entry (workers/populate-worker.mjs) before it imports a table module. */
const WORKER_FLAG = Symbol.for('datajoint.populateWorker');

/** Whether this thread is one of populate's worker threads. */
export function isPopulateWorker(): boolean {
  return (globalThis as { [k: symbol]: unknown })[WORKER_FLAG] === true;
}

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

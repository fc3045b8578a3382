/**
 * The populate worker behind `dj populate` (API.md §8): populates a list of auto-populated
 * tables in order (upstream first), with maxCalls counted across all of them, once or, in a
 * loop, over and over as new keys arrive, polling every `idleSeconds` while nothing is pending.
 * Any number of workers, on any number of machines, may share one database's jobs tables
 * (reserveJobs): each round refreshes the jobs and reserves keys one by one.
 *
 * It runs in drain mode (signals.ts): SIGTERM/SIGINT stops dealing keys, the makes in flight
 * finish (or are rolled back when the grace period passes), jobs not started are released, and
 * runWorker returns with `stoppedBy` set. In a loop, a lost server is waited out rather than
 * fatal: the worker says so and tries again after the idle period.
 */
import { BackendUnavailableError, DeadlockError, LostConnectionError, PoolTimeoutError } from '../errors.js';
import type { AutoPopulate } from './auto-populate.js';
import type { PopulateOptions, PopulateResult } from './key-loop.js';
import type { Row } from '../fetch/fetch.js';
import { notDone } from './make.js';
import { isOutage, outcomeOf, unsettledOf } from './outage.js';
import { emptyResult } from './options.js';
import { type Drain, PopulateInterrupted } from './signals.js';

/** A table the worker populates, with the name it is reported under. */
export interface WorkerTable {
  label: string;
  cls: typeof AutoPopulate;
}

export interface WorkerOptions {
  /** Worker threads per populate call (populate's `processes`). */
  processes?: number;
  /** Reserve each key in the jobs table before making it (needed for several workers). */
  reserveJobs?: boolean;
  /** Makes (successes and failures) across all tables and rounds, after which the worker stops. */
  maxCalls?: number;
  /** Keep working until a signal: poll for new keys every `idleSeconds` when nothing is pending. */
  loop?: boolean;
  /** Seconds between polls while idle (default 10). */
  idleSeconds?: number;
  /** Draw populate's progress bar (for a terminal, not for logs). */
  displayProgress?: boolean;
}

/** What one populate call of one table did. */
export interface TableReport {
  label: string;
  result: PopulateResult;
  seconds: number;
  /** Keys of the key source still not in the table afterwards, and all of them. */
  remaining: number;
  total: number;
}

export interface WorkerEvents {
  /** A populate call of one table returned (in a loop: only calls that attempted a make). */
  table?(report: TableReport): void;
  /** A round found nothing to make; the worker sleeps `seconds` (said once per idle spell). */
  idle?(seconds: number): void;
  /** In a loop: the server could not be reached; the worker tries again after `seconds`. */
  unavailable?(error: Error, seconds: number): void;
  /**
   * The process is about to exit inside a populate call (its make did not stop within the grace
   * period, or a second signal): the summary so far, that call's committed makes included.
   */
  forcedExit?(summary: WorkerSummary): void;
}

export interface WorkerSummary {
  success: number;
  error: number;
  skip: number;
  /** Per table label. */
  byTable: Record<string, { success: number; error: number; skip: number }>;
  /** The signal that stopped the worker, if one did. */
  stoppedBy: NodeJS.Signals | null;
  /** A make was cut short (rolled back) because it ran past the grace period. */
  interrupted: boolean;
  /** maxCalls was reached. */
  maxCallsReached: boolean;
}

/** Errors a looping worker waits out: the server or the network is down for a while. */
const transient = (e: unknown) => e instanceof LostConnectionError || e instanceof BackendUnavailableError || e instanceof PoolTimeoutError || e instanceof DeadlockError;

/**
 * A looping worker's answer to a failed step: an outage (the server or the network down for a
 * while) is said and slept through, one idle period; anything else, or any failure outside a
 * loop, is thrown.
 */
async function waitOut(e: unknown, drain: Drain, opts: WorkerOptions, unavailable?: WorkerEvents['unavailable']): Promise<void> {
  if (!opts.loop || !transient(e)) throw e;
  const seconds = opts.idleSeconds ?? 10;
  unavailable?.(e as Error, seconds);
  await drain.sleep(seconds * 1000);
}

/**
 * `step` (a looping worker's start-up: reading the schemas' dependencies), tried again every
 * idle period while the database is unavailable, as the loop itself does between rounds: a
 * standing worker started before its server (both deployed at once, a server restarting)
 * waits for it instead of exiting. Resolves to null when a signal stops the wait.
 */
export async function untilAvailable<T>(step: () => Promise<T>, drain: Drain, opts: WorkerOptions, unavailable?: WorkerEvents['unavailable']): Promise<T | null> {
  for (;;) {
    try {
      return await step();
    } catch (e) {
      if (drain.signal) throw e;
      await waitOut(e, drain, opts, unavailable);
      if (drain.signal) return null;
    }
  }
}

export async function runWorker(tables: WorkerTable[], drain: Drain, opts: WorkerOptions = {}, events: WorkerEvents = {}): Promise<WorkerSummary> {
  const limit = opts.maxCalls ?? Infinity;
  const idleMs = (opts.idleSeconds ?? 10) * 1000;
  const summary: WorkerSummary = { success: 0, error: 0, skip: 0, byTable: {}, stoppedBy: null, interrupted: false, maxCallsReached: false };
  for (const t of tables) summary.byTable[t.label] = { success: 0, error: 0, skip: 0 };
  let calls = 0;
  let idle = false;
  /** Per table label: keys whose COMMIT an outage left unknown (outage.ts), asked about before its next call. */
  const unsettled = new Map<string, Row[]>();
  const done = () => drain.signal !== null || calls >= limit;

  rounds: while (!done()) {
    let made = 0;
    for (const t of tables) {
      if (done()) break rounds;
      // Those of the keys an outage left unknown that are in the table committed then: they
      // count as made (no call has made this table since, so no other call made them).
      let lateSuccesses = 0;
      const unknown = unsettled.get(t.label);
      if (unknown) {
        try {
          lateSuccesses = unknown.length - (await notDone(new t.cls(), unknown)).length;
          unsettled.delete(t.label);
        } catch (e) {
          await waitOut(e, drain, opts, events.unavailable);
          continue rounds;
        }
      }
      const populateOpts: PopulateOptions = {
        reserveJobs: opts.reserveJobs,
        processes: opts.processes,
        maxCalls: Number.isFinite(limit) ? limit - calls : undefined,
        suppressErrors: true,
        displayProgress: opts.displayProgress,
        // A worker must see new upstream keys each round, whatever jobs.auto_refresh says.
        ...(opts.loop ? { refresh: true } : {}),
      };
      const t0 = performance.now();
      /** Count what a populate call did; whether to say it (not when a loop's call attempted nothing). */
      const count = (got: PopulateResult): { r: PopulateResult; say: boolean } => {
        const r = { ...got, success: got.success + lateSuccesses };
        calls += r.success + r.error;
        made += r.success;
        const tally = summary.byTable[t.label]!;
        for (const k of ['success', 'error', 'skip'] as const) {
          tally[k] += r[k];
          summary[k] += r[k];
        }
        return { r, say: !(opts.loop && r.success + r.error === 0) };
      };
      const account = async (got: PopulateResult, askProgress: boolean) => {
        const { r, say } = count(got);
        if (!say) return;
        idle = false;
        const notKnown = { remaining: NaN, total: NaN };
        const { remaining, total } = askProgress ? await t.cls.progress().catch(() => notKnown) : notKnown;
        events.table?.({ label: t.label, result: r, seconds: (performance.now() - t0) / 1000, remaining, total });
      };
      drain.lastWords = (call) => {
        const { r, say } = count(call ?? emptyResult());
        if (say) events.table?.({ label: t.label, result: r, seconds: (performance.now() - t0) / 1000, remaining: NaN, total: NaN });
        summary.stoppedBy = drain.signal;
        summary.interrupted = true;
        events.forcedExit?.(summary);
      };
      let r: PopulateResult;
      try {
        r = await t.cls.populate(populateOpts);
      } catch (e) {
        if (e instanceof PopulateInterrupted && drain.signal) {
          summary.interrupted = true;
          // The makes that committed before the grace period ran out count.
          if (e.outcome) await account(e.outcome, false);
          break rounds;
        }
        if (opts.loop) {
          // The keys made before the database went away committed: they count (the next round
          // does not make them again). Nothing to ask the database about what is left meanwhile.
          const outage = isOutage(e);
          await account((outage && outcomeOf(e)) || emptyResult(), false);
          const unknownNow = outage ? unsettledOf(e) : [];
          if (unknownNow.length) unsettled.set(t.label, unknownNow);
        }
        await waitOut(e, drain, opts, events.unavailable);
        continue rounds;
      }
      await account(r, true);
    }
    if (!opts.loop) break;
    if (made === 0 && !done()) {
      // Nothing pending (or only failures, which a retry now would repeat): wait for new keys.
      if (!idle) events.idle?.(idleMs / 1000);
      idle = true;
      await drain.sleep(idleMs);
    }
  }
  drain.lastWords = null;
  summary.stoppedBy = drain.signal;
  summary.maxCallsReached = calls >= limit;
  return summary;
}

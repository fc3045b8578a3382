/**
 * The key loop of populate: make every key of a list, with reservation, group commit, retries
 * and error bookkeeping. Used in-process by populate() and by the worker threads on their chunks.
 *
 * What each failure means here:
 * - a make that throws is a real failure: recorded (and the job marked error);
 * - a deadlock rolled the transaction back: the make is redone (a group: all its keys, one by one);
 * - a lost connection rolled back whatever had not committed: the loop checks which keys did
 *   commit (a COMMIT's reply may be what was lost), redoes the rest on a new connection, and
 *   reports an error only when a key keeps losing its connection;
 * - a duplicate key means another populate committed the key meanwhile: a skip, once checked;
 * - a database that cannot be reached to check any of that is an outage: the loop stops with its
 *   error (no key is failed for it), what it did so far attached (outage.ts).
 * Inside a transaction the loop never needs a second pooled connection (it could wait forever on
 * an exhausted pool): a failure inside a group commit is recorded in the group's own transaction.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DataJointError, DeadlockError, DuplicateError, LostConnectionError, toError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import { pause } from '../connection/retry.js';
import type { Row } from '../fetch/fetch.js';
import type { Jobs } from './jobs.js';
import { type MakeContext, type MakeTable, alreadyDone, makeMode, notDone, runMake } from './make.js';
import { isOutage, withOutcome } from './outage.js';
import type { ProgressBar } from './progress-bar.js';
import type { Interrupts } from './signals.js';
import type { PopulateOptions, PopulateResult } from './options.js';

export type { PopulateOptions, PopulateResult };

/** What the key loop needs from its table. */
export interface KeyLoopTable extends MakeTable {
  readonly jobs: Jobs;
}

/** What is in progress right now (read by signal handling and crash recovery). */
export class LoopWatch {
  /** Keys whose makes run in the open transaction (or whose single make runs), in order. */
  inFlight: Row[] = [];
  /** 'open' while a transaction is open and its COMMIT not yet sent; 'committing' after. */
  tx: 'none' | 'open' | 'committing' = 'none';
  /** Keys of the current group commit not started yet. */
  queued: Row[] = [];
  /** Keys reserved for this loop but not started (released when it stops). */
  held: Row[] = [];

  /** Every key this loop holds but has not committed: in flight, queued or held. */
  get unfinished(): Row[] {
    return [...this.inFlight, ...this.queued, ...this.held];
  }
  /** Makes committed by this loop. */
  committed = 0;
}

export interface KeyLoopEnv {
  bar?: ProgressBar | null;
  /** Where a three-part make computes (a worker pool); in-process when absent. */
  compute?: MakeContext['compute'];
  /** Signal state: `stopping` deals no new keys, `signal` aborts (on a worker thread only `stopping`, from the main thread's drain). */
  interrupts?: Pick<Interrupts, 'signal' | 'stopping' | 'error'> | null;
  watch?: LoopWatch;
  /** Told the index (in `keys`) of each make as it starts (a worker reports it for crash recovery). */
  progress?: (index: number) => void;
  /** The group-commit size to start from, updated as the loop learns it: a worker thread keeps
   *  one per table, so its chunks do not each start again from groups of one. */
  groupSize?: { size: number };
}

/** A deadlock or a lost connection undid a whole group commit (internal). */
class GroupUndone extends DataJointError {
  constructor(
    readonly why: 'deadlock' | 'lost',
    cause: unknown,
  ) {
    super(`group commit undone by a ${why === 'deadlock' ? 'deadlock' : 'lost connection'}`, { cause });
  }
}

const DEADLOCK_RETRIES = 4;
/** How often one key may lose its connection before the loss counts as its failure. */
const LOST_RETRIES = 2;
/** Group commit of plain makes: at most this many makes or milliseconds per commit. */
const BATCH_MAX = 64;
const BATCH_MS = 100;


/**
 * Make every key of `keys` (in order). With reserveJobs the keys are pending jobs: each is
 * reserved before its transaction opens and completed inside it.
 */
export async function populateKeys(t: KeyLoopTable, keys: Row[], opts: PopulateOptions, env: KeyLoopEnv = {}): Promise<PopulateResult> {
  const conn: Connection = t.connection;
  const jobs = t.jobs;
  const reserve = Boolean(opts.reserveJobs);
  const result: PopulateResult = { success: 0, error: 0, skip: 0, errors: [] };
  const limit = opts.maxCalls ?? Infinity;
  const bar = env.bar;
  const watch = env.watch ?? new LoopWatch();
  const signal = () => env.interrupts?.signal ?? null;
  // A signal in drain mode stops dealing keys but lets the makes in flight finish.
  const stopping = () => env.interrupts?.stopping ?? false;
  const checkpoint = () => {
    if (signal()) throw env.interrupts!.error();
  };
  if (reserve) await jobs.declare(); // DDL before any transaction opens
  const connectionId = reserve ? await conn.sessionId() : 0;
  const indexOf = new Map(keys.map((k, i) => [k, i]));
  const started = (key: Row) => env.progress?.(indexOf.get(key) ?? -1);

  let attempts = 0; // makes that reached an outcome (success or error): maxCalls counts these
  const unsettled: Row[] = []; // keys whose COMMIT an outage left unknown (outage.ts)
  let stop: Error | null = null;
  const fail = (key: Row, err: Error) => {
    attempts++;
    result.error++;
    result.errors.push({ key, error: err });
    if (!opts.suppressErrors) stop ??= err;
  };
  const seconds = (t0: number) => (performance.now() - t0) / 1000;
  /**
   * After a make failed: whether its key has left the key source (its upstream rows were
   * deleted after it was dealt, or while it ran). Then the failure is not the make's: the key
   * counts as skipped and its job goes back to pending, to be made if the rows come back (or
   * removed as stale by a refresh), not kept as an error that blocks it.
   */
  const gone = async (key: Row): Promise<boolean> => {
    if (await jobs.inKeySource(key).catch(() => true)) return false;
    if (reserve) await jobs.release([key]).catch(() => {});
    return true;
  };
  /** Record a failure in the jobs table (outside any transaction); best effort. */
  const jobError = async (key: Row, err: Error, t0: number) => {
    if (reserve) await jobs.error(key, err, seconds(t0), connectionId).catch(() => {});
  };
  const makeContext = (key: Row, t0: number, inGroup: boolean, checked = inGroup): MakeContext => ({
    checked,
    inGroup,
    compute: env.compute,
    checkpoint,
    // Last statement before the COMMIT goes out; from then on a signal must not kill the session.
    beforeCommit: async () => {
      if (reserve) await jobs.complete(key, seconds(t0));
      if (!inGroup) watch.tx = 'committing';
    },
    onTransaction: inGroup ? undefined : (open) => (watch.tx = open ? 'open' : 'none'),
  });

  /** One make in its own transaction, with retries (`checked`: the key is known not done). */
  const makeAlone = async (key: Row, checked = false): Promise<void> => {
    const t0 = performance.now();
    watch.inFlight = [key];
    started(key);
    let lost = 0;
    try {
      for (let tries = 0; ; tries++) {
        try {
          // A retry checks again: a lost COMMIT reply or another populate may have made it.
          const r = await runMake(t, key, opts.makeKwargs, makeContext(key, t0, false, checked && tries === 0 && lost === 0));
          bar?.tick();
          if (r === 'success') {
            attempts++;
            result.success++;
            watch.committed++;
          } else result.skip++;
          return;
        } catch (e) {
          if (signal()) {
            // Interrupted; unless its COMMIT got through before the kill did (then it is made).
            const err = env.interrupts!.error(e);
            if (!(await alreadyDone(t, key).catch(() => false))) await jobError(key, err, t0);
            throw err;
          }
          if (e instanceof DeadlockError && tries < DEADLOCK_RETRIES) {
            await pause(tries);
            continue;
          }
          if (e instanceof LostConnectionError || e instanceof DuplicateError) {
            // Did the key commit after all (a lost COMMIT reply), or did another populate make it?
            const done = await alreadyDone(t, key).catch((ce: unknown) => (isOutage(ce) ? ce : null));
            // The server cannot be reached: whether the key committed is unknown, and losing the
            // database is not the make's failure. The call stops (outage.ts).
            if (done instanceof Error) {
              if (e instanceof LostConnectionError) unsettled.push(key);
              throw e instanceof LostConnectionError ? e : done;
            }
            if (done === true) {
              bar?.tick();
              if (e instanceof LostConnectionError) {
                attempts++;
                result.success++;
                watch.committed++;
              } else {
                // Made by another populate: this reservation is done too.
                if (reserve) await jobs.complete(key, seconds(t0)).catch(() => {});
                result.skip++;
              }
              return;
            }
            if (e instanceof LostConnectionError && done === false && lost++ < LOST_RETRIES) continue; // rolled back: redo it on a new connection
          }
          bar?.tick();
          const err = toError(e);
          if (await gone(key)) {
            result.skip++;
            return;
          }
          await jobError(key, err, t0);
          fail(key, err);
          return;
        }
      }
    } finally {
      watch.inFlight = [];
      watch.tx = 'none';
    }
  };

  /**
   * Consecutive plain makes in one transaction, each in its own savepoint (so each stays
   * atomic), for at most BATCH_MAX makes or about BATCH_MS: one commit for many makes; results
   * become visible at most about BATCH_MS later. Returns the keys it did not get to.
   */
  const makeGroup = async (todo: Row[]): Promise<Row[]> => {
    const attempted: Row[] = [];
    const done: Row[] = [];
    const duplicates: Array<{ key: Row; err: Error; t0: number }> = [];
    const failed: Array<{ key: Row; err: Error }> = [];
    let skipped = 0;
    const t0 = performance.now();
    watch.inFlight = attempted;
    watch.queued = todo;
    try {
      checkpoint();
      await conn.transaction(async () => {
        watch.tx = 'open';
        while (todo.length && !stopping() && !stop && attempts + attempted.length < limit && performance.now() - t0 < BATCH_MS) {
          const key = todo.shift()!;
          attempted.push(key);
          started(key);
          const k0 = performance.now();
          try {
            const r = await runMake(t, key, opts.makeKwargs, makeContext(key, k0, true));
            if (r === 'success') done.push(key);
            else skipped++;
          } catch (e) {
            if (signal()) throw e;
            if (e instanceof DeadlockError) throw new GroupUndone('deadlock', e);
            if (e instanceof LostConnectionError) throw new GroupUndone('lost', e);
            // Settled after the commit, with one read outside the transaction.
            if (e instanceof DuplicateError) duplicates.push({ key, err: e, t0: k0 });
            else if (await gone(key)) skipped++;
            else {
              const err = toError(e);
              // On the group's session: the failure commits with the group (no second connection).
              if (reserve) await jobs.error(key, err, seconds(k0), connectionId);
              failed.push({ key, err });
              if (!opts.suppressErrors) stop ??= err;
            }
          }
        }
        watch.tx = 'committing';
      });
    } catch (e) {
      watch.tx = 'none';
      const undone = [...attempted, ...todo];
      if (signal()) {
        // The signal killed (or stopped) the transaction: the key being made is the interrupted
        // one; the others were rolled back with it and go back to the queue.
        const err = env.interrupts!.error(e);
        const current = attempted[attempted.length - 1];
        if (reserve) {
          if (current && !(await alreadyDone(t, current).catch(() => false))) await jobError(current, err, t0);
          await jobs.release(undone.filter((k) => k !== current)).catch(() => {});
        }
        throw err;
      }
      const lostCommit = e instanceof LostConnectionError;
      if (e instanceof GroupUndone || lostCommit) {
        // A lost connection may have taken only the COMMIT's reply: if the group's makes are all
        // in the table, it committed.
        if (lostCommit && done.length) {
          const open = await notDone(t, done).catch((ce: unknown) => (isOutage(ce) ? ce : done));
          // The server cannot be asked: whether the group committed is unknown (outage.ts).
          if (open instanceof Error) {
            unsettled.push(...done);
            throw e;
          }
          if (open.length === 0) return settle();
        }
        // Rolled back as a whole: redo its keys one by one (they are still reserved).
        watch.inFlight = [];
        for (const key of undone) {
          if (stopping() || stop || attempts >= limit) return [key, ...undone.slice(undone.indexOf(key) + 1)];
          await makeAlone(key);
        }
        return [];
      }
      // The commit failed otherwise: its makes are undone.
      if (reserve) await jobs.release(attempted).catch(() => {});
      const err = toError(e);
      for (const key of done) fail(key, err);
      return todo;
    } finally {
      watch.inFlight = [];
      watch.queued = [];
      watch.tx = 'none';
    }
    return settle();

    /** The group committed: count its outcomes and settle duplicates. */
    async function settle(): Promise<Row[]> {
      watch.inFlight = [];
      attempts += done.length;
      result.success += done.length;
      watch.committed += done.length;
      result.skip += skipped;
      for (const { key, err } of failed) fail(key, err);
      bar?.tick(done.length + skipped + failed.length);
      if (duplicates.length) {
        const open = new Set(await notDone(t, duplicates.map((d) => d.key)));
        for (const { key, err, t0: k0 } of duplicates) {
          bar?.tick();
          if (open.has(key)) {
            await jobError(key, err, k0);
            fail(key, err);
          } else {
            if (reserve) await jobs.complete(key, seconds(k0)).catch(() => {});
            result.skip++;
          }
        }
      }
      return todo;
    }
  };

  // Makes whose fetch and compute run outside a transaction (generator, three-part) commit one
  // by one; plain makes commit in groups. With reserveJobs, a group's keys are reserved before
  // its transaction opens, so the transaction never waits on a reservation. The group grows
  // while makes are fast and shrinks when they are slow, so a worker never sits on many
  // reservations it cannot finish soon.
  const batched = makeMode(t) === 'make';
  let next = 0;
  let group = env.groupSize?.size ?? 1;
  let carry: Row[] = [];
  watch.held = carry;
  /** Without reservations, the next group's keys are checked while this group makes its own:
   *  that query is then off the makes' path (a key made elsewhere meanwhile is a duplicate). */
  let ahead: Promise<{ candidates: Row[]; fresh: Row[] | null }> | null = null;
  /** The next `n` keys of the list. */
  const take = (n: number): Row[] => {
    const candidates = keys.slice(next, next + n);
    next += candidates.length;
    return candidates;
  };
  /** Of the candidates, those still to make (`open`) join the carry; the others are skips. */
  const admit = (candidates: Row[], open: Row[]): void => {
    result.skip += candidates.length - open.length;
    carry.push(...open);
  };
  try {
    while ((next < keys.length || carry.length || ahead) && !stopping() && attempts < limit && !stop) {
      if (!batched) {
        const key = keys[next++]!;
        if (reserve && !(await jobs.reserve(key, connectionId))) result.skip++;
        else await makeAlone(key);
        continue;
      }
      // The group's keys: reserved (reserveJobs), or checked not done yet with one query. A key
      // another populate commits meanwhile shows up as a duplicate on insert: a skip. Keys a
      // group did not reach in time carry over to the next.
      const size = Math.min(group, limit - attempts, BATCH_MAX);
      if (ahead) {
        const { candidates, fresh } = await ahead;
        ahead = null;
        admit(candidates, fresh ?? (await notDone(t, candidates))); // the early check failed: again, now
      }
      if (carry.length < size && next < keys.length) {
        const candidates = take(size - carry.length);
        admit(candidates, reserve ? await jobs.reserveMany(candidates, connectionId) : await notDone(t, candidates));
      }
      if (!carry.length) continue;
      const todo = carry.splice(0, carry.length);
      if (!reserve && next < keys.length) {
        const candidates = take(size);
        // Deferred a turn: built and sent while this group's first query is on the wire.
        ahead = nextTurn()
          .then(() => notDone(t, candidates))
          .then(
            (fresh) => ({ candidates, fresh }),
            () => ({ candidates, fresh: null }),
          );
      }
      const t0 = performance.now();
      // A group of one (slow makes) needs no savepoint: its own transaction is as atomic, and
      // SAVEPOINT and RELEASE are two round trips of a make that has few.
      if (todo.length === 1 && group === 1) await makeAlone(todo[0]!, true);
      else carry.push(...(await makeGroup(todo)));
      const elapsed = performance.now() - t0;
      group = elapsed < BATCH_MS / 2 ? Math.min(BATCH_MAX, group * 2) : Math.max(1, group >> 1);
      if (env.groupSize) env.groupSize.size = group;
    }
    if (stop) throw stop;
  } catch (e) {
    // What this loop did before the database went away goes with the error (outage.ts).
    if (isOutage(e)) withOutcome(e, result, unsettled);
    throw e;
  } finally {
    // Reserved keys this run did not get to (stopped early): back to the queue.
    if (reserve && carry.length) await jobs.release(carry).catch(() => {});
  }
  return result;
}

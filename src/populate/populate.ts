/**
 * populate() (API.md §6; spec: autopopulate): compute every missing key of an auto-populated
 * table with make(), each make atomic (master and parts in one transaction).
 * Three forms of make: plain `make(key)`, the generator `async *make(key)` (fetch; yield;
 * compute; yield; insert) and the three parts makeFetch / makeCompute / makeInsert.
 */
import { DataJointError, DeadlockError, DuplicateError } from '../errors.js';
import { Bindings } from '../adapters/bind.js';
import { utcDatetimeText } from '../connection/datetime.js';
import { config } from '../config.js';
import { type Connection, closeAll } from '../connection/connection.js';
import type { QueryExpression } from '../expression/expression.js';
import { keysCondition, populateContext, type Table } from '../table/table.js';
import type { Row } from '../fetch/fetch.js';
import { stableHash } from './hash.js';
import { Jobs } from './jobs.js';
import { ProgressBar } from './progress-bar.js';
import { jobVersion } from './version.js';

export interface PopulateOptions {
  restrict?: unknown;
  suppressErrors?: boolean;
  reserveJobs?: boolean;
  maxCalls?: number;
  displayProgress?: boolean;
  processes?: number;
  makeKwargs?: Record<string, unknown>;
  priority?: number;
  refresh?: boolean;
}

export interface PopulateResult {
  success: number;
  error: number;
  skip: number;
  errors: Array<{ key: Row; error: Error }>;
}

/** The user-facing shape of an auto-populated table instance. */
export interface MakeTable extends Table {
  make?(key: Row, makeKwargs?: Record<string, unknown>): unknown;
  makeFetch?(key: Row, makeKwargs?: Record<string, unknown>): unknown;
  makeCompute?(key: Row, fetched: unknown): unknown;
  makeInsert?(key: Row, computed: unknown, fetched: unknown): unknown;
}

export type MakeMode = 'make' | 'generator' | 'threePart';

export function makeMode(t: MakeTable): MakeMode {
  if (typeof t.makeFetch === 'function' || typeof t.makeCompute === 'function' || typeof t.makeInsert === 'function') {
    if (typeof t.makeFetch !== 'function' || typeof t.makeCompute !== 'function' || typeof t.makeInsert !== 'function')
      throw new DataJointError(`${t.constructor.name}: the three-part make needs all of makeFetch, makeCompute and makeInsert`);
    return 'threePart';
  }
  if (typeof t.make !== 'function') throw new DataJointError(`${t.constructor.name} has no make() method (or makeFetch/makeCompute/makeInsert)`);
  const name = t.make.constructor?.name;
  return name === 'AsyncGeneratorFunction' || name === 'GeneratorFunction' ? 'generator' : 'make';
}

export class FetchedDataChanged extends DataJointError {}

/** A deadlock rolled back a whole group commit (internal to populate). */
class GroupDeadlock extends DataJointError {}
const DEADLOCK_RETRIES = 4;

/** Group commit of plain makes in populate: at most this many makes or milliseconds per commit. */
const BATCH_MAX = 64;
const BATCH_MS = 100;

/** Thrown into a make when populate is interrupted by SIGINT/SIGTERM. */
export class PopulateInterrupted extends DataJointError {}

const changedMessage = (t: Table) =>
  `Referential integrity failed! The fetched data has changed between makeFetch and the insert for ${t.constructor.name}: the key was not computed. Run populate again.`;

type Gen = AsyncGenerator<unknown, unknown, unknown> | Generator<unknown, unknown, unknown>;

/** Key restricted to the table's primary key as a condition object. */
function keyOnly(key: Row, pk: string[]): Row {
  const out: Row = {};
  for (const k of pk) out[k] = key[k];
  return out;
}

/** The keys of `keys` that are not in the table yet (one query). */
async function notDone(t: Table, keys: Row[]): Promise<Row[]> {
  const heading = await t.tableHeading();
  const pk = heading.primaryKey;
  const d = t.connection.dialect;
  const rows = await t.connection.query(`SELECT ${pk.map((k) => d.quoteId(k)).join(',')} FROM ${t.fullTableName} WHERE ${keysCondition(t.connection, heading, keys)}`);
  if (!rows.length) return keys;
  const id = (r: Row) => JSON.stringify(pk.map((k) => String(r[k])));
  const done = new Set(rows.map(id));
  return keys.filter((k) => !done.has(id(k)));
}

async function alreadyDone(t: Table, key: Row): Promise<boolean> {
  return (await notDone(t, [key])).length === 0;
}

/** Write job metadata into the hidden columns, when the table has them. */
async function writeJobMetadata(t: Table, key: Row, pk: string[], start: Date, seconds: number): Promise<void> {
  const h = await t.tableHeading();
  if (!h.has('_job_start_time')) return;
  const d = t.connection.dialect;
  const b = new Bindings(d);
  const set = `${d.quoteId('_job_start_time')}=${b.add(utcDatetimeText(start))}, ${d.quoteId('_job_duration')}=${b.add(seconds)}, ${d.quoteId('_job_version')}=${b.add(jobVersion())}`;
  await t.connection.execute(`UPDATE ${t.fullTableName} SET ${set} WHERE ${keysCondition(t.connection, h, [keyOnly(key, pk)])}`, b.values);
}

export interface MakeContext {
  /** Computes on a worker thread when a pool is available; in-process otherwise. */
  compute?: (key: Row, fetched: unknown) => Promise<unknown>;
  /** Runs inside the make's transaction after it succeeded (or found the key done): the job's
   *  completion commits atomically with the result. */
  beforeCommit?: () => Promise<void>;
  /** The caller already knows the key is not done (checked for a whole group, or reserved). */
  checked?: boolean;
  /** Tracks the transaction session so a signal can abort it. */
  onTransaction?: (active: boolean) => void;
}

/**
 * Run make for one key, atomically. Returns 'skip' when the key turned out to be done already
 * (e.g. computed by another worker meanwhile).
 */
export async function runMake(t: MakeTable, key: Row, makeKwargs: Record<string, unknown> | undefined, ctx: MakeContext = {}): Promise<'success' | 'skip'> {
  const conn = t.connection;
  const heading = await t.tableHeading();
  const pk = heading.primaryKey;
  const k = keyOnly(key, pk);
  const mode = makeMode(t);
  const self = `${t.database}.${(t.constructor as typeof Table & { _master?: typeof Table })._master?.tableName ?? t.tableName}`;
  const inPopulate = <R>(fn: () => Promise<R>) => populateContext.run({ tables: new Set([self]) }, fn);
  const started = new Date();
  const t0 = performance.now();
  const tx = async (fn: () => Promise<'success' | 'skip'>) => {
    ctx.onTransaction?.(true);
    try {
      return await conn.transaction(async () => {
        const r = await fn();
        await ctx.beforeCommit?.();
        return r;
      });
    } finally {
      ctx.onTransaction?.(false);
    }
  };
  const finish = async () => writeJobMetadata(t, k, pk, started, (performance.now() - t0) / 1000);

  if (mode === 'make') {
    try {
      return await tx(async () => {
        if (!ctx.checked && (await alreadyDone(t, k))) return 'skip';
        await inPopulate(async () => {
          await t.make!({ ...k }, makeKwargs);
        });
        await finish();
        return 'success';
      });
    } catch (err) {
      // Another populate committed this key meanwhile (its row was locked, then duplicate).
      if (err instanceof DuplicateError && (await conn.outsideTransaction(() => alreadyDone(t, k)))) return 'skip';
      throw err;
    }
  }

  if (mode === 'threePart') {
    const fetched = await t.makeFetch!({ ...k }, makeKwargs);
    const hash = stableHash(fetched);
    const computed = ctx.compute ? await ctx.compute({ ...k }, fetched) : await t.makeCompute!({ ...k }, fetched);
    return tx(async () => {
      if (await alreadyDone(t, k)) return 'skip';
      const again = await t.makeFetch!({ ...k }, makeKwargs);
      if (stableHash(again) !== hash) throw new FetchedDataChanged(changedMessage(t));
      await inPopulate(async () => {
        await t.makeInsert!({ ...k }, computed, fetched);
      });
      await finish();
      return 'success';
    });
  }

  // Generator: run fetch and compute outside a transaction; inside it, re-run the fetch part of
  // a second generator to verify the inputs, then resume the first one for the insert.
  const gen = t.make!({ ...k }, makeKwargs) as Gen;
  let finished = false;
  try {
    const first = await gen.next();
    if (first.done) throw new DataJointError(`${t.constructor.name}.make is a generator but did not yield (fetch; yield; compute; yield; insert)`);
    const hash = stableHash(first.value);
    const second = await gen.next();
    if (second.done) throw new DataJointError(`${t.constructor.name}.make must yield twice: after fetching and after computing`);
    const result = await tx(async () => {
      if (await alreadyDone(t, k)) return 'skip';
      const check = t.make!({ ...k }, makeKwargs) as Gen;
      try {
        const again = await check.next();
        if (stableHash(again.value) !== hash) throw new FetchedDataChanged(changedMessage(t));
      } finally {
        await check.return(undefined);
      }
      await inPopulate(async () => {
        const last = await gen.next(second.value);
        if (!last.done) await gen.return(undefined);
      });
      finished = true;
      await finish();
      return 'success';
    });
    return result;
  } finally {
    if (!finished) await gen.return(undefined);
  }
}

/** Pending keys in direct mode: (key source ∩ restriction) − table, as key objects. */
export async function pendingKeys(t: AutoPopulateLike, restrict: unknown, limit?: number): Promise<Row[]> {
  const ks = await t.keySourceExpression(restrict);
  const todo = ks.minus(t.selfExpression(), { semanticCheck: false });
  return todo.keys(limit !== undefined ? { limit } : {});
}

export interface AutoPopulateLike extends MakeTable {
  keySourceExpression(restrict?: unknown): Promise<QueryExpression>;
  selfExpression(): QueryExpression;
  readonly jobs: Jobs;
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Interrupt handling: the first SIGINT/SIGTERM aborts the open make and stops populate. */
class SignalGuard {
  signal: NodeJS.Signals | null = null;
  #handlers: Array<[NodeJS.Signals, () => void]> = [];
  constructor(onSignal: (s: NodeJS.Signals) => void) {
    for (const s of ['SIGINT', 'SIGTERM'] as const) {
      const h = () => {
        if (this.signal) return;
        this.signal = s;
        onSignal(s);
      };
      process.on(s, h);
      this.#handlers.push([s, h]);
    }
  }
  dispose(): void {
    for (const [s, h] of this.#handlers) process.off(s, h);
  }
}

export async function populate(t: AutoPopulateLike, opts: PopulateOptions = {}): Promise<PopulateResult> {
  const processes = Math.max(1, Math.floor(opts.processes ?? 1));
  if (opts.maxCalls !== undefined && (!Number.isInteger(opts.maxCalls) || opts.maxCalls < 0)) throw new DataJointError('maxCalls must be a non-negative integer');
  makeMode(t); // fail early when there is no make
  if (processes > 1) {
    const { populateWithPool } = await import('./pool.js');
    return populateWithPool(t, opts, processes);
  }
  const conn: Connection = t.connection;
  const jobs = t.jobs;
  let keys: Row[];
  if (opts.reserveJobs) {
    if (opts.refresh ?? Boolean(config.get('jobs.auto_refresh'))) await jobs.refresh({ restrict: opts.restrict, priority: opts.priority });
    keys = await jobs.pendingKeys({ priority: opts.priority, restrict: opts.restrict });
  } else {
    keys = await pendingKeys(t, opts.restrict);
  }
  const limit = opts.maxCalls ?? Infinity;
  const bar = opts.displayProgress ? new ProgressBar(Math.min(keys.length, limit), t.constructor.name) : null;
  const env: KeyLoopEnv = { bar, inTx: false, signal: () => guard.signal };
  // A signal aborts the open transaction by destroying its session: the server rolls it back.
  const guard = new SignalGuard(() => {
    if (env.inTx) void abortTransaction(conn);
  });
  try {
    return await populateKeys(t, keys, opts, env);
  } finally {
    guard.dispose();
    bar?.finish();
    if (guard.signal) await exitOnSignal(guard.signal);
  }
}

/** What the key loop shares with its caller: progress, the open-transaction flag, interrupts. */
export interface KeyLoopEnv {
  bar?: ProgressBar | null;
  /** True while a make's transaction is open (a signal then kills its session). */
  inTx: boolean;
  /** The signal that interrupted populate, if any. */
  signal?: () => NodeJS.Signals | null;
  /** Where a three-part make computes (a worker pool); in-process when absent. */
  compute?: MakeContext['compute'];
}

/**
 * Make every key of `keys` (in order), with reservation, group commit, deadlock handling and
 * error bookkeeping. Used by populate() in-process and by the worker threads on their chunks.
 */
export async function populateKeys(t: AutoPopulateLike, keys: Row[], opts: PopulateOptions, env: KeyLoopEnv): Promise<PopulateResult> {
  const conn: Connection = t.connection;
  const jobs = t.jobs;
  const result: PopulateResult = { success: 0, error: 0, skip: 0, errors: [] };
  const limit = opts.maxCalls ?? Infinity;
  const bar = env.bar;
  const signal = () => env.signal?.() ?? null;
  const connectionId = opts.reserveJobs ? await conn.sessionId() : 0;

  let attempts = 0;
  // Plain makes commit in groups: one transaction spans consecutive makes (each in its own
  // savepoint, so each stays atomic) for at most BATCH_MAX makes or about BATCH_MS. This saves
  // the per-make commit; results become visible at most about BATCH_MS later. Makes whose fetch
  // and compute must run outside a transaction (generator, three-part) commit one by one.
  const batched = makeMode(t) === 'make';
  let next = 0;
  let stop: Error | null = null;
  /**
   * One make, with error bookkeeping. Alone, a make the server kills as a deadlock victim is
   * retried (as the server advises). Inside a group commit a deadlock has rolled back the whole
   * group, so it is rethrown for the group to be redone.
   */
  const attempt = async (key: Row, inGroup: boolean): Promise<'success' | 'skip' | 'error'> => {
    const t0 = performance.now();
    for (let tries = 0; ; tries++) {
      try {
        const beforeCommit = opts.reserveJobs ? () => jobs.complete(key, (performance.now() - t0) / 1000) : undefined;
        const r = await runMake(t, key, opts.makeKwargs, { onTransaction: (a) => (env.inTx = a || conn.inTransaction), beforeCommit, checked: inGroup, compute: env.compute });
        attempts++;
        bar?.tick();
        return r;
      } catch (e) {
        if (!signal() && e instanceof DeadlockError) {
          if (inGroup) throw new GroupDeadlock('deadlock in a group commit', { cause: e });
          if (tries < DEADLOCK_RETRIES) {
            await new Promise((r) => setTimeout(r, 5 + Math.random() * 25 * (tries + 1)));
            continue;
          }
        }
        attempts++;
        bar?.tick();
        const err = signal() ? new PopulateInterrupted(`populate interrupted by ${signal()}`, { cause: e }) : toError(e);
        if (opts.reserveJobs) await conn.outsideTransaction(() => jobs.error(key, err, (performance.now() - t0) / 1000, connectionId)).catch(() => {});
        if (signal()) throw err;
        result.error++;
        result.errors.push({ key, error: err });
        if (!opts.suppressErrors) stop = err;
        return 'error';
      }
    }
  };
  const tally = (r: 'success' | 'skip' | 'error') => {
    if (r === 'success') result.success++;
    else if (r === 'skip') result.skip++;
  };
  // With reserveJobs, each group's keys are reserved before its transaction opens, so the
  // transaction never waits on a reservation. The group grows while makes are fast and shrinks
  // when they are slow, so a worker never sits on many reservations it cannot finish soon.
  let group = 1;
  let carry: Row[] = [];
  try {
    while ((next < keys.length || carry.length) && !signal() && attempts < limit && !stop) {
      if (!batched) {
        const key = keys[next++]!;
        if (opts.reserveJobs && !(await jobs.reserve(key, connectionId))) result.skip++;
        else tally(await attempt(key, false));
        continue;
      }
      // The group's keys: reserved (reserveJobs), or checked not done yet with one query. A key
      // another populate commits meanwhile shows up as a duplicate on insert: a skip. Keys a
      // group did not reach in time carry over to the next.
      const size = Math.min(group, limit - attempts, BATCH_MAX);
      if (carry.length < size && next < keys.length) {
        const candidates = keys.slice(next, next + size - carry.length);
        next += candidates.length;
        const fresh = opts.reserveJobs ? await jobs.reserveMany(candidates, connectionId) : await notDone(t, candidates);
        result.skip += candidates.length - fresh.length;
        carry.push(...fresh);
      }
      let todo = carry;
      carry = [];
      if (!todo.length) continue;
      const done: Row[] = [];
      let current: Row | null = null;
      let skipped = 0;
      const started = performance.now();
      try {
        await conn.transaction(async () => {
          env.inTx = true;
          while (todo.length && !signal() && attempts < limit && !stop && performance.now() - started < BATCH_MS) {
            current = todo.shift()!;
            const r = await attempt(current, true);
            if (r === 'success') done.push(current);
            else if (r === 'skip') skipped++;
            current = null;
          }
        });
        result.success += done.length;
        result.skip += skipped;
      } catch (e) {
        if (e instanceof GroupDeadlock) {
          // The server rolled the whole group back: redo its keys one by one (still reserved).
          const redo = [...done, ...(current ? [current] : []), ...todo];
          todo = [];
          result.skip += skipped;
          attempts -= done.length;
          for (const key of redo) if (!signal() && !stop) tally(await attempt(key, false));
          group = 1;
          continue;
        }
        // The group's commit failed (or a signal killed it): its makes are undone.
        if (opts.reserveJobs && done.length) await conn.outsideTransaction(() => jobs.release(done)).catch(() => {});
        if (signal()) throw new PopulateInterrupted(`populate interrupted by ${signal()}`, { cause: e });
        const err = toError(e);
        for (const key of done) result.errors.push({ key, error: err });
        result.error += done.length;
        if (!opts.suppressErrors) throw err;
      } finally {
        env.inTx = false;
        carry.push(...todo);
      }
      const elapsed = performance.now() - started;
      group = elapsed < BATCH_MS / 2 ? Math.min(BATCH_MAX, group * 2) : Math.max(1, group >> 1);
    }
    if (stop) throw stop;
  } finally {
    // Reserved keys this run did not get to (stopped early): back to the queue.
    if (opts.reserveJobs && carry.length) await jobs.release(carry).catch(() => {});
  }
  return result;
}

/** Kill the server-side session of the open transaction (it rolls back) without waiting on it. */
async function abortTransaction(conn: Connection): Promise<void> {
  const id = conn.transactionConnectionId();
  if (id === null) return;
  await conn.killSession(id).catch(() => {
    /* already gone */
  });
}

async function exitOnSignal(signal: NodeJS.Signals): Promise<never> {
  process.stderr.write(`\npopulate: interrupted by ${signal}; the open make was rolled back.\n`);
  await closeAll().catch(() => {});
  process.exit(signal === 'SIGINT' ? 130 : 143);
}


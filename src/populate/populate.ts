/**
 * populate() (API.md §6; spec: autopopulate): compute every missing key of an auto-populated
 * table with make(), each make atomic (master and parts in one transaction).
 * Three forms of make: plain `make(key)`, the generator `async *make(key)` (fetch; yield;
 * compute; yield; insert) and the three parts makeFetch / makeCompute / makeInsert.
 */
import { DataJointError } from '../errors.js';
import { config } from '../config.js';
import type { Connection } from '../connection/connection.js';
import type { QueryExpression } from '../expression/expression.js';
import { populateContext, type Table } from '../table/table.js';
import type { Row } from '../fetch/fetch.js';
import { stableHash } from './hash.js';
import { Jobs } from './jobs.js';
import { ProgressBar } from './progress-bar.js';

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

async function alreadyDone(t: Table, key: Row, pk: string[]): Promise<boolean> {
  const { keysCondition } = await import('../table/table.js');
  const rows = await t.connection.query(`SELECT 1 FROM ${t.fullTableName} WHERE ${keysCondition(t.connection, await t.tableHeading(), [key])} LIMIT 1`);
  return rows.length > 0;
}

/** Write job metadata into the hidden columns, when the table has them. */
async function writeJobMetadata(t: Table, key: Row, pk: string[], start: Date, seconds: number): Promise<void> {
  const h = await t.tableHeading();
  if (!h.has('_job_start_time')) return;
  const { keysCondition } = await import('../table/table.js');
  const d = t.connection.dialect;
  await t.connection.execute(
    `UPDATE ${t.fullTableName} SET \`_job_start_time\`=?, \`_job_duration\`=?, \`_job_version\`=? WHERE ${keysCondition(t.connection, h, [keyOnly(key, pk)])}`,
    [start.toISOString().replace('T', ' ').replace('Z', ''), seconds, String(config.get('jobs.version') ?? '')],
  );
  void d;
}

export interface MakeContext {
  /** Computes on a worker thread when a pool is available; in-process otherwise. */
  compute?: (key: Row, fetched: unknown) => Promise<unknown>;
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
      return await conn.transaction(fn);
    } finally {
      ctx.onTransaction?.(false);
    }
  };
  const finish = async () => writeJobMetadata(t, k, pk, started, (performance.now() - t0) / 1000);

  if (mode === 'make') {
    return tx(async () => {
      if (await alreadyDone(t, k, pk)) return 'skip';
      await inPopulate(async () => {
        await t.make!({ ...k }, makeKwargs);
      });
      await finish();
      return 'success';
    });
  }

  if (mode === 'threePart') {
    const fetched = await t.makeFetch!({ ...k }, makeKwargs);
    const hash = stableHash(fetched);
    const computed = ctx.compute ? await ctx.compute({ ...k }, fetched) : await t.makeCompute!({ ...k }, fetched);
    return tx(async () => {
      if (await alreadyDone(t, k, pk)) return 'skip';
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
      if (await alreadyDone(t, k, pk)) return 'skip';
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
  const result: PopulateResult = { success: 0, error: 0, skip: 0, errors: [] };
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
  const connectionId = opts.reserveJobs ? await conn.sessionId() : 0;

  // A signal aborts the open transaction by destroying its session: the server rolls it back.
  let inTx = false;
  const guard = new SignalGuard(() => {
    if (inTx) void abortTransaction(conn);
  });
  let attempts = 0;
  try {
    for (const key of keys) {
      if (guard.signal || attempts >= limit) break;
      if (opts.reserveJobs && !(await jobs.reserve(key, connectionId))) {
        result.skip++;
        continue;
      }
      attempts++;
      const t0 = performance.now();
      try {
        const r = await runMake(t, key, opts.makeKwargs, { onTransaction: (a) => (inTx = a) });
        if (r === 'skip') result.skip++;
        else result.success++;
        if (opts.reserveJobs) await jobs.complete(key, (performance.now() - t0) / 1000);
      } catch (e) {
        const err = guard.signal ? new PopulateInterrupted(`populate interrupted by ${guard.signal}`, { cause: e }) : toError(e);
        if (opts.reserveJobs) await jobs.error(key, err, (performance.now() - t0) / 1000, connectionId).catch(() => {});
        if (guard.signal) throw err;
        result.error++;
        result.errors.push({ key, error: err });
        if (!opts.suppressErrors) throw err;
      } finally {
        bar?.tick();
      }
    }
  } finally {
    guard.dispose();
    bar?.finish();
    if (guard.signal) await exitOnSignal(guard.signal);
  }
  return result;
}

/** Kill the server-side session of the open transaction (it rolls back) without waiting on it. */
async function abortTransaction(conn: Connection): Promise<void> {
  const { Connection: C } = await import('../connection/connection.js');
  const id = await conn.transactionConnectionId();
  if (id === null) return;
  const killer = new C({ poolSize: 1, reconnect: false });
  try {
    await killer.execute(`KILL ${id}`);
  } catch {
    /* already gone */
  } finally {
    await killer.close();
  }
}

async function exitOnSignal(signal: NodeJS.Signals): Promise<never> {
  const { closeAll } = await import('../connection/connection.js');
  process.stderr.write(`\npopulate: interrupted by ${signal}; the open make was rolled back.\n`);
  await closeAll().catch(() => {});
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

export { Jobs };

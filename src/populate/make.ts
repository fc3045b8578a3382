/**
 * One make, atomically (API.md §6; spec: autopopulate): the three forms of make — plain
 * `make(key)`, the generator `async *make(key)` (fetch; yield; compute; yield; insert) and the
 * three parts makeFetch / makeCompute / makeInsert — each committing master and parts in one
 * transaction. The key loop (key-loop.ts) decides what to make, retries and bookkeeping.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isMainThread } from 'node:worker_threads';
import { DataJointError } from '../errors.js';
import { Bindings } from '../adapters/bind.js';
import { utcDatetimeText } from '../connection/datetime.js';
import { keysCondition, populateContext, type Table } from '../table/table.js';
import type { Row } from '../fetch/fetch.js';
import { stableHash } from './hash.js';
import { DetachedData, keptDataMoved } from './transfer.js';
import { keyIdentity } from './key-id.js';
import { jobVersion } from './version.js';

/** The user-facing shape of an auto-populated table instance. */
export interface MakeTable extends Table {
  /**
   * Computes and inserts the rows of one key, in one transaction. As a generator (`async
   * *make(key)`: fetch; `yield fetched`; compute; `yield computed`; insert), the fetch and
   * compute run outside any transaction; inside the insert's, the code up to the first yield
   * runs again and what it yields is compared with the first run's (FetchedDataChanged when it
   * differs). A bare first `yield` (nothing yielded) leaves nothing to compare: the inputs are
   * not checked, and a DataJointWarning says so once. What the second yield yields is what
   * that yield expression evaluates to when the generator resumes for the insert.
   */
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

/** Set while a make runs (fetch and compute included): populate refuses to start inside one. */
export const activeMake = new AsyncLocalStorage<string>();

const changedMessage = (t: Table) =>
  `Referential integrity failed! The fetched data has changed between makeFetch and the insert for ${t.constructor.name}: the key was not computed. Run populate again.`;

type Gen = AsyncGenerator<unknown, unknown, unknown> | Generator<unknown, unknown, unknown>;

const warned = new Set<string>();
let threadWarnings: string[] = [];
/**
 * A DataJointWarning said once per process. On a worker thread it waits for the chunk's result,
 * which carries it to the calling thread (takeThreadWarnings): there `process.on('warning')`
 * sees it, and two threads do not say it twice.
 */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  if (isMainThread) process.emitWarning(message, { type: 'DataJointWarning' });
  else threadWarnings.push(message);
}

/** The warnings this worker thread said since the last call (for its chunk's result). */
export function takeThreadWarnings(): string[] {
  const out = threadWarnings;
  threadWarnings = [];
  return out;
}

/**
 * A generator make whose first yield yields nothing: its inputs cannot be checked, since the
 * check compares what the first yield yields (DataJoint Python's does the same, silently; the
 * spec's own example has bare yields).
 */
function warnUnchecked(t: Table): void {
  warnOnce(
    `${t.constructor.name}.make's first yield yields nothing, so populate cannot check that the data it fetched did not change before the insert: the check compares what the first yield yields, fetched again inside the insert's transaction. Yield the fetched data (\`yield data\`) to have it checked.`,
  );
}

/**
 * A key-source row as the key a make gets: its attributes of the table's primary key (a
 * table with primary-key attributes of its own, which its make fills, gets keys without them).
 */
export function keyOnly(key: Row, pk: string[]): Row {
  const out: Row = {};
  for (const k of pk) if (Object.hasOwn(key, k)) out[k] = key[k];
  return out;
}

/** The keys of `keys` that are not in the table yet (one query, on the current session). */
export async function notDone(t: Table, keys: Row[]): Promise<Row[]> {
  if (!keys.length) return [];
  const heading = await t.tableHeading();
  // The keys' own attributes: a table may add primary-key attributes of its own to each key.
  const pk = heading.primaryKey.filter((k) => Object.hasOwn(keys[0]!, k));
  const d = t.connection.dialect;
  const rows = await t.connection.query(`SELECT DISTINCT ${pk.map((k) => d.quoteId(k)).join(',')} FROM ${t.fullTableName} WHERE ${keysCondition(t.connection, heading, keys, pk)}`);
  if (!rows.length) return keys;
  const id = keyIdentity(heading, pk);
  const done = new Set(rows.map(id.ofRaw));
  return keys.filter((k) => !done.has(id.ofKey(k)));
}

export async function alreadyDone(t: Table, key: Row): Promise<boolean> {
  return (await notDone(t, [key])).length === 0;
}

/** Write job metadata into the hidden columns, when the table has them. */
async function writeJobMetadata(t: Table, key: Row, pk: string[], start: Date, seconds: number): Promise<void> {
  const h = await t.tableHeading();
  if (!h.has('_job_start_time')) return;
  const d = t.connection.dialect;
  const b = new Bindings(d);
  const set = `${d.quoteId('_job_start_time')}=${b.add(utcDatetimeText(start))}, ${d.quoteId('_job_duration')}=${b.add(seconds)}, ${d.quoteId('_job_version')}=${b.add(jobVersion())}`;
  const k = keyOnly(key, pk);
  await t.connection.execute(`UPDATE ${t.fullTableName} SET ${set} WHERE ${keysCondition(t.connection, h, [k], Object.keys(k))}`, b.values);
}

export interface MakeContext {
  /** Computes on a worker thread when a pool is available; in-process otherwise. */
  compute?: (key: Row, fetched: unknown) => Promise<unknown>;
  /** Runs inside the make's transaction after it succeeded (or found the key done): the job's
   *  completion commits atomically with the result. */
  beforeCommit?: () => Promise<void>;
  /** The caller already knows the key is not done (checked for a whole group, or reserved). */
  checked?: boolean;
  /** Called when the make's transaction opens (true) and when it has ended (false). */
  onTransaction?: (open: boolean) => void;
  /** Throws when populate was interrupted: called before a transaction opens. */
  checkpoint?: () => void;
  /** The make runs in a group commit: its savepoint is left to the group's COMMIT. */
  inGroup?: boolean;
}

/**
 * Run make for one key, atomically. Returns 'skip' when the key turned out to be done already
 * (e.g. computed by another worker meanwhile). Errors propagate as thrown (the key loop sorts
 * them out: a duplicate, a deadlock and a lost connection each mean something else).
 */
export async function runMake(t: MakeTable, key: Row, makeKwargs: Record<string, unknown> | undefined, ctx: MakeContext = {}): Promise<'success' | 'skip'> {
  const heading = await t.tableHeading();
  const pk = heading.primaryKey;
  const k = keyOnly(key, pk);
  return activeMake.run(t.constructor.name, () => makeOne(t, k, pk, makeKwargs, ctx));
}

async function makeOne(t: MakeTable, k: Row, pk: string[], makeKwargs: Record<string, unknown> | undefined, ctx: MakeContext): Promise<'success' | 'skip'> {
  const conn = t.connection;
  const mode = makeMode(t);
  const self = `${t.database}.${(t.constructor as typeof Table & { _master?: typeof Table })._master?.tableName ?? t.tableName}`;
  const inPopulate = <R>(fn: () => Promise<R>) => populateContext.run({ tables: new Set([self]) }, fn);
  const started = new Date();
  const t0 = performance.now();
  const tx = async (fn: () => Promise<'success' | 'skip'>) => {
    ctx.checkpoint?.();
    ctx.onTransaction?.(true);
    try {
      return await conn.transaction(
        async () => {
          const r = await fn();
          await ctx.beforeCommit?.();
          return r;
        },
        { keepSavepoint: ctx.inGroup },
      );
    } finally {
      ctx.onTransaction?.(false);
    }
  };
  const finish = async () => writeJobMetadata(t, k, pk, started, (performance.now() - t0) / 1000);

  if (mode === 'make') {
    return tx(async () => {
      if (!ctx.checked && (await alreadyDone(t, k))) return 'skip';
      await inPopulate(async () => {
        await t.make!({ ...k }, makeKwargs);
      });
      await finish();
      return 'success';
    });
  }

  if (mode === 'threePart') {
    // Detached data here is an array the module keeps, moved to a worker with an earlier key's.
    const fetchedHash = (value: unknown) => {
      try {
        return stableHash(value);
      } catch (e) {
        throw e instanceof DetachedData ? keptDataMoved(`${t.constructor.name}.makeFetch`, e) : e;
      }
    };
    const fetched = await t.makeFetch!({ ...k }, makeKwargs);
    const hash = fetchedHash(fetched);
    const computed = ctx.compute ? await ctx.compute({ ...k }, fetched) : await t.makeCompute!({ ...k }, fetched);
    return tx(async () => {
      if (await alreadyDone(t, k)) return 'skip';
      const again = await t.makeFetch!({ ...k }, makeKwargs);
      if (fetchedHash(again) !== hash) throw new FetchedDataChanged(changedMessage(t));
      await inPopulate(async () => {
        await t.makeInsert!({ ...k }, computed, again);
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
    if (first.value === undefined) warnUnchecked(t);
    const hash = stableHash(first.value);
    const second = await gen.next();
    if (second.done) throw new DataJointError(`${t.constructor.name}.make must yield twice: after fetching and after computing`);
    return await tx(async () => {
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
  } finally {
    if (!finished) await gen.return(undefined);
  }
}

/**
 * populate({ processes: N }): makes run on a Piscina pool of N worker threads, each with its own
 * database connection (pool-threads.ts). Keys are dealt out in chunks (at most 2·N in flight)
 * sized from the time per key the workers measure. A plain or generator make runs entirely in
 * a worker; a three-part make fetches and inserts here and computes on the pool, its data moved
 * rather than copied (transfer.ts). The pool is kept between calls and shared by every table
 * module (pool-threads.ts).
 *
 * On a first call the pool starts while the key source is fetched: each thread loads the table
 * module and connects (0.3 s to over a second; bench/runtime.bench.ts). By default this thread
 * never makes keys itself: API.md §6 has them made on worker threads (a make that crashes its
 * thread does not take this process with it). With `populate.adaptive_start` it does until the
 * threads are up, and starts them only once the work left, at the time per key measured here,
 * pays for them (adaptive-start.ts), or at once when there is a core to spare for them.
 *
 * A worker that dies (process.exit, an uncaught exception in a timer) takes its connection and
 * so its open transaction with it. Each chunk's worker reports the key it is on through shared
 * memory, so the chunk is settled from here: keys it committed count as made, the key it was on
 * is the failure (its job marked error, its error class kept), the others are dealt again.
 */
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DataJointError, toError } from '../errors.js';
import { config } from '../config.js';
import type { Row } from '../fetch/fetch.js';
import { ProgressBar } from './progress-bar.js';
import { LoopWatch, populateKeys, type PopulateOptions, type PopulateResult } from './key-loop.js';
import { makeMode, notDone, warnOnce } from './make.js';
import { Interrupts, PopulateInterrupted, raiseStopFlag, sharedStopFlag, within } from './signals.js';
import { type AutoPopulateLike, keysToMake } from './keys-to-make.js';
import { interruptReport, settleCutShort, settleWatched } from './cut-short.js';
import { emptyResult } from './options.js';
import { DetachedData, UnsendableValue, keptDataMoved, keysForThread, keysFromThread, packForTransfer, unpackTransferred } from './transfer.js';
import { destroyPool, expectedWarmMs, getPool, isWarm, keptPool, libraryEntry, moduleLoadError, warmPool, type WorkerChunkResult, type WorkerTask } from './pool-threads.js';
import { workerModule } from './compile-module.js';
import { dropGeneration } from '../table/drop-generation.js';
import { isOutage, outcomeOf, unsettledOf, withCallOutcome } from './outage.js';
import { ChunkRate, threadsPayOff } from './adaptive-start.js';
import { WorkerCrashedError, isThreadEnd, restack, reviveError, thrownByCompute } from './worker-errors.js';

export { closePools } from './pool-threads.js';

/** Work per chunk dealt to a worker (ms, by the measured time per key), and its key limit. */
const CHUNK_MS = 200;
const CHUNK_MAX = 256;
/** Deaths of the threads given a key, each before its chunk's first make, after which the key fails. */
const START_DEATHS = 3;
/** Work per chunk made in this thread while the pool is not up (populate.adaptive_start). */
const HERE_CHUNK_MS = 100;

/** A chunk of keys on its way through a worker. */
interface Chunk {
  keys: Row[];
  progress: Int32Array;
}

export async function populateWithPool(t: AutoPopulateLike, opts: PopulateOptions, requested: number): Promise<PopulateResult> {
  // No more threads than cores, as DataJoint Python caps processes at cpu_count (each thread holds
  // a connection: 100 would exhaust PostgreSQL's default max_connections). Python also caps at
  // the number of keys; here the threads start while the keys are fetched, before it is known.
  const processes = Math.min(requested, availableParallelism());
  const ctor = t.constructor as unknown as { name: string; schema: { module: string | null; database: string } };
  const moduleUrl = ctor.schema.module;
  const mode = makeMode(t);
  if (!moduleUrl)
    throw new DataJointError(
      `populate({ processes: ${requested} }) runs ${ctor.name}.${mode === 'threePart' ? 'makeCompute' : 'make'} on worker threads, which must import the module that defines it: create its schema with dj.schema('${ctor.schema.database}', { module: import.meta.url }) in that module (for an Element's deferred schema: schema.activate('${ctor.schema.database}', { module: import.meta.url }) in the module that activates it when imported).`,
    );
  if (moduleUrl.startsWith('file:') && !existsSync(fileURLToPath(moduleUrl))) throw new DataJointError(`The table module ${moduleUrl} does not exist`);
  // Every task carries makeKwargs: one the threads cannot receive is said now, not per task.
  try {
    structuredClone(opts.makeKwargs);
  } catch (e) {
    throw new UnsendableValue(`populate({ processes: ${requested} }) sends makeKwargs to its worker threads, which cannot receive them (${e instanceof Error ? e.message : String(e)}); pass data: numbers, strings, arrays, plain objects, typed arrays`);
  }
  const conn = t.connection;
  const result = emptyResult();
  const settings = config.snapshot();
  // The pool (its threads start with it) is made when it is needed: at once, unless adaptive.
  let pool = keptPool(processes, settings);
  const base: WorkerTask = { op: 'warm', key: {}, module: moduleUrl, database: ctor.schema.database, className: ctor.name, makeKwargs: opts.makeKwargs, config: settings, drops: dropGeneration(), ...(libraryEntry ? { preload: libraryEntry } : {}) };
  // Thread start-up, module loading and connecting happen while the key source is fetched, so
  // the first keys dealt find every worker ready (a pool kept from an earlier call is ready now).
  // With adaptive start on a machine with no core to spare, the threads wait for a measurement.
  const adaptive = Boolean(config.get('populate.adaptive_start'));
  let poolUp = pool !== null && isWarm(pool, moduleUrl);
  const warmAtStart = poolUp;
  let warm: Promise<void> | null = null;
  // A module the workers cannot load stops everything (also when a chunk meets it first).
  let warmError: Error | null = null;
  const failWarm = (e: unknown) => void (warmError ??= moduleLoadError(e) ?? toError(e));
  const startPool = () => {
    pool ??= getPool(processes, settings);
    const started = pool;
    // A TypeScript module is compiled for the threads (compile-module.ts) while they start. Every
    // task names the output (a thread replacing a dead one loads it too); none is dealt to the
    // pool before it is up.
    warm = workerModule(moduleUrl)
      .then((load) => {
        if (load) base.load = load;
        return warmPool(started, processes, base);
      })
      .then(() => void (poolUp = true), failWarm);
  };
  if (!adaptive || poolUp || availableParallelism() > processes) startPool();
  const keys = await keysToMake(t, opts);
  if (opts.reserveJobs) await t.jobs.declare();
  const bar = opts.displayProgress ? new ProgressBar(Math.min(keys.length, opts.maxCalls ?? Infinity), ctor.name) : null;
  let stop: Error | null = null;
  const chunks = new Set<Chunk>(); // in flight
  const watch = new LoopWatch(); // the call's count of committed makes, for the interrupt report
  /** One per three-part make running here: they run at once, each its own key loop. */
  const threePart = new Set<LoopWatch>();
  const here = new LoopWatch(); // makes of this thread's own chunk (adaptive start)
  let atSignal: Row[] = [];
  let interruptedChunks: Chunk[] = [];
  // Read by the threads before each key: a drain reaches the chunks they are on and those queued.
  const stopFlag = sharedStopFlag();
  const interrupts = new Interrupts({
    drain: () => raiseStopFlag(stopFlag),
    abort() {
      raiseStopFlag(stopFlag);
      interruptedChunks = [...chunks];
      atSignal = [...interruptedChunks.flatMap((c) => c.keys.slice(0, Math.max(0, Atomics.load(c.progress, 0) + 1))), ...[...threePart].flatMap((w) => w.inFlight), ...here.inFlight];
      // Terminating the threads drops their connections and the server rolls back their open
      // makes; a three-part make's transaction runs here and is killed like in-process populate.
      if (pool) void destroyPool(pool);
      void conn.abortTransactions();
    },
    async beforeForcedExit(signal) {
      const err = new PopulateInterrupted(`populate interrupted by ${signal}`);
      await settleInterrupted(err);
      if (opts.reserveJobs) await settleWatched(t, here, err);
      return interruptReport(t, watch, atSignal, Boolean(opts.reserveJobs));
    },
    outcome: () => result,
  });
  /** Jobs of chunks cut short by the signal: the key each was on → error, the rest → pending. */
  const settleInterrupted = async (err: Error) => {
    if (!opts.reserveJobs) return;
    for (const c of interruptedChunks) {
      const at = Atomics.load(c.progress, 0);
      await settleCutShort(t, at >= 0 ? c.keys[at] : undefined, c.keys, err);
    }
  };

  /** The database became unreachable (outage.ts): no more keys are dealt, and the call throws it. */
  let outage: Error | null = null;
  const unsettled: Row[] = []; // keys whose COMMIT an outage left unknown, from every chunk
  const lostDatabase = (e: Error, held: Row[], unknown: readonly Row[]) => {
    outage ??= e;
    unsettled.push(...unknown);
    if (opts.reserveJobs) t.jobs.releaseLater(held);
  };
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
  const unsendableFetch = (why: string) =>
    new UnsendableValue(`${ctor.name}.makeFetch returned a value that cannot be sent to a worker thread: ${why}. Return data: typed arrays, NDArray, Buffer, Arrow tables, plain objects and arrays`);
  /**
   * Buffers of computes queued or running: a buffer that two keys' makeFetch returned (an array
   * the module keeps) would be moved by the first and arrive broken with the second, failing
   * inside Piscina with V8's "Unable to deserialize cloned data".
   */
  const sending = new WeakSet<ArrayBuffer>();
  const compute = async (key: Row, fetched: unknown) => {
    // What makeFetch returned moves to the worker, and makeCompute's result moves back (transfer.ts).
    const sent = await packForTransfer(fetched).catch((e: unknown) => {
      throw e instanceof DetachedData ? keptDataMoved(`${ctor.name}.makeFetch`, e) : e instanceof UnsendableValue ? unsendableFetch(e.message) : e;
    });
    if (sent.transferList.some((b) => sending.has(b))) throw keptDataMoved(`${ctor.name}.makeFetch`, new DetachedData('it holds an array that the makeFetch of another key in flight returned too'));
    const task: WorkerTask = { ...base, op: 'compute', key: keysForThread([key])[0]!, fetched: sent.value };
    let result: unknown;
    for (const b of sent.transferList) sending.add(b);
    try {
      result = await pool!.run(task, { transferList: sent.transferList });
    } catch (e) {
      if (e instanceof Error && e.name === 'DataCloneError') throw unsendableFetch(e.message);
      // The thread ended under makeCompute (an exit, out of memory): a crash, as for a chunk's make
      // (settleCrash); the key loop fails this key with it (its job marked error). An exception
      // makeCompute left uncaught (in a timer) is reported as itself.
      if (e instanceof Error && isThreadEnd(e)) throw new WorkerCrashedError(`a populate worker thread died while running ${ctor.name}.makeCompute for this key: ${e.message}`, { cause: e });
      throw e;
    } finally {
      for (const b of sent.transferList) sending.delete(b);
    }
    const failed = thrownByCompute(result);
    if (failed) throw failed;
    return unpackTransferred(result);
  };
  const loopOpts: PopulateOptions = { reserveJobs: opts.reserveJobs, makeKwargs: opts.makeKwargs, suppressErrors: true };
  const runThreePart = async (key: Row): Promise<number> => {
    const own = new LoopWatch();
    threePart.add(own);
    try {
      return absorb(await populateKeys(t, [key], loopOpts, { compute, interrupts, watch: own }));
    } finally {
      threePart.delete(own);
    }
  };
  /** A chunk made entirely in this thread (adaptive start, while the pool is not up). */
  const groupSize = { size: 1 };
  const hereRate = new ChunkRate();
  const runHere = async (c: Chunk): Promise<number> => {
    const t0 = performance.now();
    const r = await populateKeys(t, c.keys, loopOpts, { interrupts, watch: here, groupSize });
    hereRate.record(performance.now() - t0, c.keys.length);
    if (msPerKey === 0) learn(hereRate.msPerKey || hereRate.latestMsPerKey);
    return absorb(r);
  };
  /** A chunk of plain or generator makes, run by one worker with the in-process loop. */
  const runChunk = async (c: Chunk): Promise<number> => {
    const sent = keysForThread(c.keys);
    const task: WorkerTask = { ...base, op: 'makeMany', key: sent[0]!, keys: sent, reserveJobs: opts.reserveJobs, progress: c.progress, stop: stopFlag };
    try {
      const r = (await pool!.run(task)) as WorkerChunkResult;
      learn(r.ms / c.keys.length);
      for (const w of r.warnings ?? []) warnOnce(w);
      if (r.outage) lostDatabase(reviveError(r.outage), c.keys, keysFromThread(r.unsettled ?? []));
      return absorb({ ...r, errors: r.errors.map((e) => ({ key: keysFromThread([e.key])[0]!, error: reviveError(e.error) })) });
    } catch (e) {
      if (interrupts.signal) throw e;
      const unloadable = moduleLoadError(e);
      if (unloadable) return void failWarm(unloadable), 0;
      // The task never reached a thread (its message could not be sent): nothing to deal again.
      if (e instanceof Error && e.name === 'DataCloneError') throw new UnsendableValue(`populate could not send a chunk of keys to a worker thread: ${e.message}`);
      return settleCrash(c, toError(e));
    }
  };
  /**
   * The worker died mid-chunk: count what it committed, report the makes it had failed before
   * (their errors died with the chunk's result, but with reserveJobs their jobs say so), fail
   * the key it was on, deal the rest again.
   */
  const settleCrash = async (c: Chunk, err: Error): Promise<number> => {
    const at = Atomics.load(c.progress, 0);
    const current = at >= 0 ? c.keys[at] : undefined;
    const open = new Set(await notDone(t, c.keys));
    // Only keys up to the one it was on were started by the thread; a later key in the table
    // was made by another worker meanwhile (with reserveJobs the thread reserves as it goes).
    const made = c.keys.filter((k, i) => i <= at && !open.has(k));
    result.success += made.length;
    result.skip += c.keys.filter((k, i) => i > at && !open.has(k)).length;
    const failed = opts.reserveJobs ? await failedBefore(c.keys.slice(0, Math.max(0, at)).filter((k) => open.has(k))) : [];
    const rest = c.keys.filter((k) => open.has(k) && k !== current && !failed.includes(k));
    if (at < 0) {
      // The thread died before its first make of the chunk. Threads that keep dying as they
      // start (say, a timer the table module sets throws) must not get these keys forever.
      const given = rest.filter((k) => {
        const deaths = (diedAtStart.get(k) ?? 0) + 1;
        diedAtStart.set(k, deaths);
        return deaths >= START_DEATHS;
      });
      for (const key of given) {
        const gaveUp = new WorkerCrashedError(`populate worker threads died ${START_DEATHS} times before making this key: ${err.message}`, { cause: err });
        if (opts.reserveJobs) await t.jobs.error(key, gaveUp, 0).catch(() => {});
        recordError(key, gaveUp);
      }
      await dealAgain(rest.filter((k) => !given.includes(k)));
      return made.length + given.length;
    }
    await dealAgain(rest);
    if (current && open.has(current)) {
      // An error a make threw where nothing caught it keeps its class (a plain Error too); the
      // thread's own end (an exit, out of memory) is a WorkerCrashedError.
      const died = `a populate worker thread died while making this key: ${err.message}`;
      const culprit = isThreadEnd(err) ? new WorkerCrashedError(died, { cause: err }) : restack(Object.assign(err, { message: died }), err.stack);
      if (opts.reserveJobs) await t.jobs.error(current, culprit, 0).catch(() => {});
      recordError(current, culprit);
      return made.length + failed.length + 1;
    }
    return made.length + failed.length;
  };
  /** Keys back on the list after a crashed chunk (their reservations released meanwhile). */
  const dealAgain = async (rest: Row[]): Promise<void> => {
    if (opts.reserveJobs) await t.jobs.release(rest);
    keys.push(...rest);
  };
  /** Per key, how often the thread given it died before its chunk's first make. */
  const diedAtStart = new Map<Row, number>();
  /** Of `candidates` (attempted by a dead worker, not in the table), those whose job it marked error: recorded as errors. */
  const failedBefore = async (candidates: Row[]): Promise<Row[]> => {
    const failed: Row[] = [];
    for (const key of candidates) {
      const [job] = await t.jobs.errors.restrict(key).toDicts().catch(() => []);
      if (!job) continue; // its group's transaction died with the worker: to be made again
      // The job stores `${name}: ${message}` and the stack, as the worker's error had them.
      const text = String(job.error_message);
      const colon = text.indexOf(': ');
      recordError(key, reviveError({ name: colon > 0 ? text.slice(0, colon) : 'Error', message: colon > 0 ? text.slice(colon + 2) : text, stack: typeof job.error_stack === 'string' ? job.error_stack : undefined }));
      failed.push(key);
    }
    return failed;
  };

  // Bounded dealing: at most 2·N tasks in flight, the key list walked lazily. Chunks hold about
  // CHUNK_MS of work by the measured time per key (one key while nothing is known), so fast
  // makes share transactions and round trips while slow ones still spread over the workers.
  const inFlight = new Set<Promise<void>>();
  let next = 0;
  let attempted = 0;
  let dealt = 0; // keys in tasks not yet returned
  let msPerKey = 0;
  /** Time per key, as workers measure it (a chunk's wall time here would include its queueing). */
  const learn = (per: number) => void (msPerKey = msPerKey === 0 ? per : 0.7 * msPerKey + 0.3 * per);
  const budget = () => (opts.maxCalls ?? Infinity) - attempted - dealt;

  let making: Promise<void> | null = null; // this thread's own chunk (adaptive start)
  /** Deal the next `size` keys as one chunk, to the pool or to this thread. */
  const deal = (size: number, toPool = true): void => {
    const chunk: Chunk = { keys: keys.slice(next, next + Math.min(size, budget())), progress: new Int32Array(new SharedArrayBuffer(4)).fill(-1) };
    next += chunk.keys.length;
    dealt += chunk.keys.length;
    if (toPool) chunks.add(chunk);
    const p: Promise<void> = (!toPool ? runHere(chunk) : mode === 'threePart' ? runThreePart(chunk.keys[0]!) : runChunk(chunk))
      .then((n) => void (attempted += n))
      .catch((e) => {
        if (interrupts.signal) return;
        if (isOutage(e)) {
          const done = outcomeOf(e);
          if (done) attempted += absorb(done);
          lostDatabase(e, chunk.keys, unsettledOf(e));
        } else for (const key of chunk.keys) recordError(key, toError(e));
      })
      .finally(() => {
        inFlight.delete(p);
        chunks.delete(chunk);
        dealt -= chunk.keys.length;
        bar?.tick(chunk.keys.length);
        if (p === making) making = null;
      });
    inFlight.add(p);
    if (!toPool) making = p;
  };
  /**
   * Adaptive start, pool not up: keep one chunk making here; start the threads once the work
   * left (at this thread's time per key, once measured) pays for them (adaptive-start.ts).
   */
  const makeHereWhileStarting = async (): Promise<void> => {
    const perKey = hereRate.msPerKey;
    if (!warm && hereRate.settled && threadsPayOff({ keysLeft: Math.min(keys.length - next, budget()), msPerKey: perKey, processes, cores: availableParallelism(), startMs: expectedWarmMs(pool) })) startPool();
    // During the ramp (no rate yet), chunks are sized from the latest one.
    const sizeFrom = perKey || hereRate.latestMsPerKey;
    // While the threads start, a make longer than a chunk is not begun here: the compile of their
    // module and the pool's messages run on this thread, and a make that computes for seconds
    // would hold them up (all six 1.5 s keys were made here while the threads waited).
    const tooLongNow = warm !== null && sizeFrom > HERE_CHUNK_MS;
    if (!making && !tooLongNow) deal(sizeFrom === 0 ? 1 : Math.max(1, Math.min(CHUNK_MAX, Math.floor(HERE_CHUNK_MS / sizeFrom))), false);
    await Promise.race(warm ? [...inFlight, warm] : inFlight);
  };

  try {
    // Dealing starts once the pool is up (or failed to start); a pool kept warm is up at once,
    // after its tasks learn which file the threads load.
    if (!adaptive || warmAtStart) await warm;
    while ((next < keys.length || inFlight.size) && !stop && !warmError && !outage && !interrupts.stopping) {
      if (next >= keys.length || budget() <= 0) {
        // Nothing to deal now; a crashed chunk may still hand keys back.
        if (!inFlight.size) break;
        await Promise.race(inFlight);
        continue;
      }
      if (!poolUp) {
        await makeHereWhileStarting();
        continue;
      }
      // Never more than an even share of what is left among the 2·N chunks in flight, so the
      // last chunks shrink to single keys and the workers finish together (no worker idles
      // through the tail while another makes a chunk dealt when much was left).
      const share = Math.ceil((keys.length - next) / (2 * processes));
      deal(mode === 'threePart' || msPerKey === 0 ? 1 : Math.max(1, Math.min(CHUNK_MAX, share, Math.floor(CHUNK_MS / msPerKey))));
      if (inFlight.size - (making ? 1 : 0) >= 2 * processes) await Promise.race(inFlight);
    }
    await Promise.allSettled(inFlight);
  } finally {
    interrupts.dispose();
    bar?.finish();
  }
  if (interrupts.signal) {
    await within(settleInterrupted(new PopulateInterrupted(`populate interrupted by ${interrupts.signal}`)), 5_000, undefined);
    watch.committed = result.success;
    return interrupts.exit(await within(interruptReport(t, watch, atSignal, Boolean(opts.reserveJobs)), 5_000, ['(Could not check what committed.)']), result);
  }
  if (outage) {
    // What the other chunks made goes with it: the caller (a looping worker) counts it.
    withCallOutcome(outage, result, unsettled);
    throw outage;
  }
  if (stop && !opts.suppressErrors) throw stop;
  if (warmError) throw warmError;
  return result;
}

/**
 * The auto-populated tiers (Computed, Imported): populate(), progress(), keySource, jobs. The
 * engine lives in the modules beside this one; these are the user-facing entry points.
 */
import { DataJointError, toError } from '../errors.js';
import { config, type ConfigValue } from '../config.js';
import { QueryExpression, toExpression } from '../expression/expression.js';
import { Table } from '../table/table.js';
import type { TierName } from '../table/names.js';
import type { Row } from '../fetch/fetch.js';
import { Jobs } from './jobs.js';
import { ParentJoin, restrictKeySource } from './key-source.js';
import { emptyResult, populate, populateAllowedHere, populateKeys, type AutoPopulateLike, type PopulateOptions, type PopulateResult } from './populate.js';
import { DetachedData, UnsendableValue, keptDataMoved, keysForThread, keysFromThread, packForTransfer, unpackTransferred } from './transfer.js';
import type { WorkerChunkResult, WorkerTask } from './pool-threads.js';
import { computeFailure, serializeError } from './worker-errors.js';
import { isOutage, outcomeOf, unsettledOf } from './outage.js';
import { checkOptions, checkPopulateOptions } from './options.js';
import { activeMake, takeThreadWarnings } from './make.js';
import { stopFlagInterrupts } from './signals.js';
import { noteDropsElsewhere } from '../table/drop-generation.js';

/** Options of `progress()`. */
export interface ProgressOptions {
  /** Restricts the key source, as populate's `restrict` does. */
  restrict?: unknown;
  /** Also print `Completed n of total (p%)`, as DataJoint Python's `progress(display=True)`. */
  display?: boolean;
}

const PROGRESS_OPTION_NAMES = Object.keys({ restrict: true, display: true } satisfies Record<keyof ProgressOptions, true>);

/** Base of the auto-populated tiers. */
export class AutoPopulate extends Table {
  /** Keys make() is called with: by default the join of the primary-key parents. Override as a static getter. */
  static get keySource(): unknown {
    const self = new this();
    return new ParentJoin(self.connection, self.database, self.tableName, () => self.tableHeading());
  }

  /**
   * The keys to compute: the key source (restricted) projected to its primary key, as DataJoint
   * Python's `(key_source & restriction).proj()`, so that it is compared with this table and its
   * jobs by the key alone (a parent's secondary attribute may have a namesake in either).
   */
  async keySourceExpression(restrict?: unknown): Promise<QueryExpression> {
    const ctor = this.constructor as typeof AutoPopulate;
    const ks = ctor.keySource;
    const expr = toExpression(ks);
    if (!expr) throw new DataJointError(`${ctor.name}.keySource must be a query expression or a table class`);
    return (restrict === undefined ? expr : restrictKeySource(expr, restrict)).proj();
  }

  /** This table, unrestricted. */
  selfExpression(): QueryExpression {
    return new (this.constructor as new () => Table)();
  }

  get jobs(): Jobs {
    return (this.constructor as typeof AutoPopulate).jobs;
  }
  static get jobs(): Jobs {
    let j = jobsByClass.get(this);
    if (!j) {
      const owner = new this();
      j = new Jobs({
        connection: owner.connection,
        database: owner.database,
        tableName: owner.tableName,
        tableHeading: () => owner.tableHeading(),
        keySourceExpression: (r?: unknown) => owner.keySourceExpression(r),
        selfExpression: () => owner.selfExpression(),
      });
      jobsByClass.set(this, j);
    }
    return j;
  }

  async populate(opts: PopulateOptions = {}): Promise<PopulateResult> {
    checkPopulateOptions(opts, `${this.constructor.name}.populate`);
    // As in DataJoint Python: the restriction would be ignored (populate computes the key source).
    if (this.isRestricted)
      throw new DataJointError(`Cannot call populate on a restricted table: pass the condition as ${this.constructor.name}.populate({ restrict: condition }) instead`);
    // Checked before declaring: a worker thread or a make must not even run DDL here.
    if (!populateAllowedHere(() => this.connection, this.constructor.name)) return emptyResult();
    await this.declare();
    return populate(this as unknown as AutoPopulateLike, opts);
  }
  static populate(this: new () => AutoPopulate, opts?: PopulateOptions): Promise<PopulateResult> {
    return new this().populate(opts);
  }

  /** `{ remaining, total }`: keys still to compute, and keys in the key source. */
  async progress(opts: ProgressOptions = {}): Promise<{ remaining: number; total: number }> {
    checkOptions(opts, PROGRESS_OPTION_NAMES, `${this.constructor.name}.progress`);
    await this.declare();
    const ks = await this.keySourceExpression(opts.restrict);
    const [remaining, total] = await Promise.all([ks.minus(this.selfExpression(), { semanticCheck: false }).count(), ks.count()]);
    if (opts.display) {
      // As DataJoint Python's progress(display=True) prints it.
      const done = total - remaining;
      console.log(`${this.constructor.name.padEnd(20)} Completed ${done} of ${total} (${(total ? (100 * done) / total : 100).toFixed(1)}%)   ${new Date().toISOString().replace('T', ' ').slice(0, 19)}`);
    }
    return { remaining, total };
  }
  static progress(this: new () => AutoPopulate, opts?: ProgressOptions): Promise<{ remaining: number; total: number }> {
    return new this().progress(opts);
  }

  /** Entry point of populate's worker threads (see workers/populate-worker.mjs). */
  static async _runWorkerTask(task: WorkerTask): Promise<{ value: unknown; transferList?: ArrayBuffer[] }> {
    applyWorkerConfig(task.config);
    // Tables dropped by the caller since this thread's last task (a schema dropped with its jobs
    // tables): what this thread remembers declared is checked again.
    if (task.drops !== undefined) noteDropsElsewhere(task.drops);
    const t = new this() as unknown as AutoPopulateLike;
    if (task.op === 'warm') {
      // The thread's connection opens now, and the table's heading is cached for its makes. A
      // failure goes back as data, so the main thread throws it with its class (an unreachable
      // database is an outage there, not a plain Error).
      try {
        await t.tableHeading();
        return { value: null };
      } catch (e) {
        return { value: { warmFailed: serializeError(toError(e)) } };
      }
    }
    if (task.op === 'compute') {
      // A failure goes back as data, so the main thread throws it with its class again (a thrown
      // error would cross as a plain Error).
      try {
        const fetched = await unpackTransferred(task.fetched);
        // Inside the make as populate sees it: a populate called from makeCompute is refused.
        const computed = await activeMake.run(this.name, () => (t.makeCompute as (k: Row, f: unknown) => unknown)({ ...keysFromThread([task.key])[0]! }, fetched));
        return await packForTransfer(computed).catch((e: unknown) => {
          if (e instanceof DetachedData) throw keptDataMoved(`${this.name}.makeCompute`, e);
          throw e instanceof UnsendableValue ? new UnsendableValue(`${this.name}.makeCompute returned a value its worker thread cannot send back: ${e.message}. Return data: typed arrays, NDArray, Buffer, Arrow tables, plain objects and arrays`) : e;
        });
      } catch (e) {
        return { value: computeFailure(e) };
      }
    }
    // A chunk of keys, made with the same loop as in-process populate (group commit included).
    // The index of the key being made goes to shared memory: if this thread dies, the main
    // thread knows which key was the culprit.
    const progress = task.progress;
    let groupSize = groupSizes.get(this);
    if (!groupSize) groupSizes.set(this, (groupSize = { size: 1 }));
    const t0 = performance.now();
    let r: PopulateResult;
    let outage: Error | null = null;
    let unsettled: Row[] = [];
    try {
      // A drain of the main thread (task.stop) stops the loop before its next key, as it does in-process.
      r = await populateKeys(
        t,
        keysFromThread(task.keys ?? []),
        { reserveJobs: task.reserveJobs, makeKwargs: task.makeKwargs, suppressErrors: true },
        { progress: progress ? (i) => Atomics.store(progress, 0, i) : undefined, groupSize, interrupts: task.stop ? stopFlagInterrupts(task.stop) : null },
      );
    } catch (e) {
      // The database went away: said as data with what the chunk did (a thrown error would
      // reach the main thread as a crashed chunk, its class lost).
      if (!isOutage(e)) throw e;
      outage = e;
      r = outcomeOf(e) ?? emptyResult();
      unsettled = unsettledOf(e);
    }
    const value: WorkerChunkResult = {
      ...(outage ? { outage: serializeError(outage), unsettled: keysForThread(unsettled) } : {}),
      ms: performance.now() - t0,
      success: r.success,
      error: r.error,
      skip: r.skip,
      errors: r.errors.map(({ key, error }) => ({ key: keysForThread([key])[0]!, error: serializeError(error) })),
      warnings: takeThreadWarnings(),
    };
    return { value };
  }
}

const jobsByClass = new WeakMap<object, Jobs>();
/** Group-commit size learned per table by this worker thread, carried from chunk to chunk. */
const groupSizes = new WeakMap<object, { size: number }>();
let workerConfigApplied = false;
function applyWorkerConfig(snapshot: Record<string, unknown>): void {
  if (workerConfigApplied) return;
  workerConfigApplied = true;
  for (const [k, v] of Object.entries(snapshot)) config.set(k, v as ConfigValue);
}

/** Rows computed from other tables by make(). */
export class Computed extends AutoPopulate {
  static override tier: TierName = 'computed';
}

/** Rows brought in from outside the database by make(). */
export class Imported extends AutoPopulate {
  static override tier: TierName = 'imported';
}


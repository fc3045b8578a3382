/**
 * Which keys a populate call makes: the missing keys of the key source, or with reserveJobs the
 * pending jobs (refreshed first unless that is off). Shared by the in-process call (populate.ts)
 * and the pool (pool.ts), which each fetch them before making any.
 */
import { DeadlockError } from '../errors.js';
import { config } from '../config.js';
import type { QueryExpression } from '../expression/expression.js';
import type { Row } from '../fetch/fetch.js';
import type { Jobs } from './jobs.js';
import type { KeyLoopTable } from './key-loop.js';
import type { PopulateOptions } from './options.js';

export interface AutoPopulateLike extends KeyLoopTable {
  /** The keys to compute: the key source (restricted) projected to its primary key. */
  keySourceExpression(restrict?: unknown): Promise<QueryExpression>;
  selfExpression(): QueryExpression;
  readonly jobs: Jobs;
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

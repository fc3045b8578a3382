/**
 * A database outage during populate (the server restarting, the network down): the key loop
 * cannot even check what committed, so no key is failed for it. The populate call stops with
 * the connection's error (a LostConnectionError, or a BackendUnavailableError), whatever
 * suppressErrors says, as DataJoint Python's populate stops when its jobs table cannot be reached;
 * `dj populate --loop` waits it out and starts the round again.
 *
 * Jobs this process had reserved stay reserved while the server is away (releasing them needs
 * it), and no other worker takes a reserved job. They are remembered here, per jobs table, and
 * released by this process's next populate of that table with reserveJobs, before it looks
 * for pending jobs: only those still reserved by this host and process (a key that committed
 * before the outage has its job completed).
 */
import { BackendUnavailableError, LostConnectionError } from '../errors.js';
import type { Row } from '../fetch/fetch.js';
import type { PopulateResult } from './options.js';

/** Whether `e` says the database cannot be reached (rather than that a statement failed). */
export const isOutage = (e: unknown): e is Error => e instanceof LostConnectionError || e instanceof BackendUnavailableError;

/**
 * What a key loop (or a whole populate call) stopped by an outage had done: its result, and the
 * keys whose COMMIT may or may not have got through (the reply was lost, and the server could
 * not be asked). Whether those committed is known once the server answers again: a looping
 * worker asks then (worker.ts), before it makes anything of that table, and counts the ones in
 * the table as made.
 */
export interface OutageOutcome {
  result: PopulateResult;
  unsettled: Row[];
}
const outcomes = new WeakMap<Error, OutageOutcome>();
/** Attach to an outage what the key loop it stopped had done (successes, failures, skips), and the keys it could not settle. */
export function withOutcome(e: Error, result: PopulateResult, unsettled: readonly Row[] = []): void {
  if (!outcomes.has(e)) outcomes.set(e, { result, unsettled: [...unsettled] });
}
/**
 * Attach to an outage what the whole populate call it stopped had done (a pool of key loops:
 * the sum of its chunks, replacing what the chunk that met the outage attached).
 */
export function withCallOutcome(e: Error, result: PopulateResult, unsettled: readonly Row[]): void {
  outcomes.set(e, { result, unsettled: [...unsettled] });
}
/** What the key loop (or populate call) stopped by `e` had done, if it said. */
export const outcomeOf = (e: Error): PopulateResult | undefined => outcomes.get(e)?.result;
/** The keys whose commit the outage `e` left unknown. */
export const unsettledOf = (e: Error): Row[] => outcomes.get(e)?.unsettled ?? [];

/** Keys whose reservations an outage kept this process from releasing, per jobs table. */
const unreleased = new Map<string, Row[]>();

/** Remember `keys` of the jobs table `jobsTable` (its full name on its server) for release later. */
export function releaseLater(jobsTable: string, keys: readonly Row[]): void {
  if (!keys.length) return;
  const held = unreleased.get(jobsTable) ?? [];
  held.push(...keys);
  unreleased.set(jobsTable, held);
}

/** The keys remembered for `jobsTable`, forgotten once `release` succeeds with them. */
export async function releaseRemembered(jobsTable: string, release: (keys: Row[]) => Promise<void>): Promise<void> {
  const keys = unreleased.get(jobsTable);
  if (!keys?.length) return;
  await release(keys);
  unreleased.delete(jobsTable);
}

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
import type { PopulateResult } from './key-loop.js';

/** Whether `e` says the database cannot be reached (rather than that a statement failed). */
export const isOutage = (e: unknown): e is Error => e instanceof LostConnectionError || e instanceof BackendUnavailableError;

const outcomes = new WeakMap<Error, PopulateResult>();
/** Attach to an outage what the key loop it stopped had done (successes, failures, skips). */
export function withOutcome(e: Error, result: PopulateResult): void {
  if (!outcomes.has(e)) outcomes.set(e, result);
}
/** What the key loop stopped by `e` had done, if it said. */
export const outcomeOf = (e: Error): PopulateResult | undefined => outcomes.get(e);

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

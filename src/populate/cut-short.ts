/**
 * A populate call cut short (a signal, a forced exit, a stopped pool): its jobs settled and what
 * it did reported, checked against the table. Shared by the in-process call (populate.ts) and
 * the pool (pool.ts).
 */
import type { Row } from '../fetch/fetch.js';
import type { KeyLoopTable, LoopWatch } from './key-loop.js';
import type { AutoPopulateLike } from './keys-to-make.js';
import { notDone } from './make.js';
import type { PopulateResult } from './options.js';

/**
 * The jobs of a key loop cut short (a signal, a forced exit, a stopped pool): the key it was
 * making is marked error unless its make committed; every other key it held is pending again.
 * Releasing touches reserved jobs only, so keys it committed keep their completed job, and
 * keys of a group whose transaction died with it are pending again.
 */
export async function settleCutShort(t: AutoPopulateLike, current: Row | undefined, held: readonly Row[], err: Error): Promise<void> {
  if (current && (await notDone(t, [current]).catch(() => [current])).length) await t.jobs.error(current, err, 0).catch(() => {});
  await t.jobs.release(held.filter((k) => k !== current)).catch(() => {});
}

/** settleCutShort for an in-process key loop: the key it was on is the last in flight. */
export const settleWatched = (t: AutoPopulateLike, watch: LoopWatch, err: Error): Promise<void> => settleCutShort(t, watch.inFlight[watch.inFlight.length - 1], watch.unfinished, err);

/** Keys as a JSON array (the first 20), for messages a person or a script can read. */
const showKeys = (keys: Row[]) => JSON.stringify(keys.slice(0, 20), (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + (keys.length > 20 ? ` and ${keys.length - 20} more` : '');

/**
 * What an interrupted populate did, checked against the table (what committed is in it), so
 * that nothing is claimed rolled back that committed, or the reverse.
 */
export async function interruptReport(t: KeyLoopTable, watch: LoopWatch, atSignal: Row[], reserveJobs: boolean): Promise<string[]> {
  const lines = [`${watch.committed} make(s) committed in this run.`];
  if (!atSignal.length) return [...lines, 'No make was in progress when the signal arrived.'];
  const open = await notDone(t, atSignal);
  const committed = atSignal.filter((k) => !open.includes(k));
  if (open.length)
    lines.push(
      `In progress when the signal arrived and not committed (nothing of them is in the table): ${showKeys(open)}.${reserveJobs ? ' The job(s) being made are marked error; the others are pending again.' : ''}`,
    );
  if (committed.length) lines.push(`In progress when the signal arrived and committed before it took effect: ${showKeys(committed)}.`);
  return lines;
}

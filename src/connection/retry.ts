/**
 * Retrying statements (of the jobs queue, of declarations), only where repeating them is safe:
 * - a deadlock victim's statement was rolled back whole (outside a transaction nothing else
 *   was), so it can run again;
 * - an idempotent statement (the same UPDATE twice leaves the same row) can run again after a
 *   lost connection, whether or not the first one reached the server.
 * Anything else that lost its connection fails with LostConnectionError (see Jobs.reserve for how
 * a reservation finds out whether it happened).
 */
import { DeadlockError, LostConnectionError } from '../errors.js';

/** A short random pause before another attempt, longer with each one (against a convoy of retries). */
export const pause = (attempt: number) => new Promise((r) => setTimeout(r, 5 + Math.random() * 25 * (attempt + 1)));

/** Run `fn` again (after a short random pause), at most `retries` more times, while it fails with an error `retryable` accepts. */
export async function retryWhen<T>(fn: () => Promise<T>, retryable: (err: unknown) => boolean, retries: number): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!retryable(err) || attempt >= retries) throw err;
      await pause(attempt);
    }
  }
}

/** Run `fn` again (after a short random pause) while the server picks it as a deadlock victim. */
export function retryOnDeadlock<T>(fn: () => Promise<T>, retries = 6): Promise<T> {
  return retryWhen(fn, (err) => err instanceof DeadlockError, retries);
}

/** Run an idempotent `fn` once more when its connection was lost (the pool reconnects). */
export async function idempotent<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await retryOnDeadlock(fn);
  } catch (err) {
    if (!(err instanceof LostConnectionError)) throw err;
    return retryOnDeadlock(fn);
  }
}

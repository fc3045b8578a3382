/**
 * Bounded concurrency for store transfers: moving many rows' objects one at a time wastes the
 * network's latency, and starting all at once exhausts sockets, memory and the server's
 * patience. `parallelMap` keeps at most `limit` calls in flight; `Limiter` shares one bound
 * among callers that start work independently (e.g. the parts of several multipart uploads).
 */
import { DataJointError } from '../errors.js';

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new DataJointError(`Concurrency must be an integer ≥ 1, got ${limit}`);
  return limit;
}

/**
 * `fn` over every item with at most `limit` calls in flight; results keep the items' order.
 * On the first failure no new call starts, the calls in flight are awaited, and that first
 * error is thrown (so nothing is left running behind the caller's back).
 */
export async function parallelMap<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  checkLimit(limit);
  const iterator: Iterator<T> | AsyncIterator<T> =
    Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
  const results: R[] = [];
  let next = 0;
  let failed = false;
  let firstError: unknown;

  // Each worker pulls the next item; pulls are serialized because async iterators must not be
  // called concurrently.
  let pulling: Promise<unknown> = Promise.resolve();
  const pull = (): Promise<{ item: T; index: number } | null> => {
    const p = pulling.then(async () => {
      if (failed) return null;
      const r = await iterator.next();
      return r.done ? null : { item: r.value, index: next++ };
    });
    pulling = p.catch(() => undefined);
    return p;
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      let job: { item: T; index: number } | null;
      try {
        job = await pull();
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
        }
        return;
      }
      if (!job) return;
      try {
        results[job.index] = await fn(job.item, job.index);
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
        }
        return;
      }
    }
  };

  await Promise.all(Array.from({ length: limit }, worker));
  if (failed) {
    await (iterator as AsyncIterator<T>).return?.();
    throw firstError;
  }
  return results;
}

/** A counting semaphore: `run(fn)` waits until fewer than `limit` runs are active. */
export class Limiter {
  readonly limit: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.limit = checkLimit(limit);
  }

  /** Number of runs in progress. */
  get active(): number {
    return this.#active;
  }

  async run<R>(fn: () => Promise<R>): Promise<R> {
    if (this.#active >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (the count stays), or free it.
      const wake = this.#waiting.shift();
      if (wake) wake();
      else this.#active--;
    }
  }
}

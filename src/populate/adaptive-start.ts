/**
 * populate.adaptive_start's decision (pool.ts): a call whose pool is not running makes its keys
 * on the calling thread and measures them; when should its worker threads start?
 *
 * Threads cost more than their start-up, and gain less than N times on a machine with no core
 * to spare. A fresh thread runs the library's and the driver's code cold (V8 compiles it again
 * in every thread): up to its first 5,000 keys took about 0.5 ms more each. And the threads share
 * the cores with this thread and the database server, so what a key costs beyond the make's own
 * computing does not parallelize. Measured on 2 cores (2026-12-02), processes 2 against 1 on a
 * pool's first call:
 * - trivial makes (fetch1 + insert1, 0.4 ms a key) lost at every size tried, 2,000 to 20,000
 *   keys (0.37–0.98×: start-up and cold keys cost 1–2.8 s), and the pool's next call made them
 *   only 0.6–1.6× as fast;
 * - makes of 1.6 ms a key gained on a 3 s call (1.08–1.10×); of 2 and 5 ms, 1.22–1.61×; of
 *   50 ms, 1.24–1.35× over 100 keys.
 * The model below fits those: N threads are worth N·m/(m + SHARED_MS·(N−1)) of this thread,
 * and they start when the time that saves on the work left exceeds their start-up and cold keys.
 */

/** Per key and extra thread, what does not parallelize on a machine with no core to spare (ms). */
const SHARED_MS = 0.3;
/** Keys each fresh thread makes on cold code, and what each of them costs more (ms). */
const COLD_KEYS = 5000;
const COLD_MS = 0.5;
/** A call's first making time (ms), whose chunks do not give its rate (ChunkRate). */
export const RAMP_MS = 100;
/** A chunk this long (ms) gives a rate on its own (ChunkRate). */
export const LONG_CHUNK_MS = 1000;

/** What the decision is made from. */
export interface StartCase {
  /** Keys left to make. */
  keysLeft: number;
  /** Time per key on the calling thread (ms). */
  msPerKey: number;
  /** Threads that would start. */
  processes: number;
  /** Cores of this machine: N threads on fewer cores are worth as many as the cores. */
  cores: number;
  /** What starting the threads is expected to take (ms, measured last time in this process). */
  startMs: number;
}

/**
 * Whether starting the threads now pays: the work left would take less time on them than on the
 * calling thread, their start-up and cold keys included.
 */
export function threadsPayOff({ keysLeft, msPerKey, processes, cores, startMs }: StartCase): boolean {
  const parallel = Math.min(processes, cores);
  if (!(keysLeft > 0 && msPerKey > 0 && parallel > 1)) return false;
  const worth = (parallel * msPerKey) / (msPerKey + SHARED_MS * (parallel - 1));
  const saved = keysLeft * msPerKey * (1 - 1 / worth);
  // The threads make their cold keys side by side: what they cost is one thread's share.
  const cost = startMs + Math.min(keysLeft / processes, COLD_KEYS) * COLD_MS;
  return saved > cost;
}

/**
 * The time per key of the calling thread's chunks: the median of the last three, so one chunk
 * slowed by a pause (a GC, another process) does not start threads, while the first, colder
 * chunks of a process drop out as its code warms. Chunks that start in a call's first
 * RAMP_MS are not rates, only time spent: their keys carry the call's first queries and commit
 * in the key loop's first, small groups (1, 2, 4, ... keys), 2-10 times slower a key than later.
 * A chunk of LONG_CHUNK_MS or more is a rate wherever it starts, and enough to decide on: for
 * makes of a second or more, waiting for three would keep the threads waiting for three keys.
 */
export class ChunkRate {
  #recent: number[] = [];
  #ms = 0;
  #latest = 0;
  #long = false;

  record(ms: number, keys: number): void {
    if (keys <= 0) return;
    const ramping = this.#ms < RAMP_MS;
    this.#ms += ms;
    this.#latest = ms / keys;
    if (ramping && ms < LONG_CHUNK_MS) return;
    this.#long ||= ms >= LONG_CHUNK_MS;
    this.#recent.push(ms / keys);
    if (this.#recent.length > 3) this.#recent.shift();
  }

  /** Time spent on the chunks (ms). */
  get totalMs(): number {
    return this.#ms;
  }

  /** The latest chunk's time per key, ramp or not (ms; 0 before any): what sizes the next chunk. */
  get latestMsPerKey(): number {
    return this.#latest;
  }

  /** Whether there is a rate to decide on: three chunks after the ramp, or a long one. */
  get settled(): boolean {
    return this.#recent.length === 3 || this.#long;
  }

  /** Time per key (ms; 0 before a chunk after the ramp was measured). */
  get msPerKey(): number {
    const r = [...this.#recent].sort((a, b) => a - b);
    if (r.length === 0) return 0;
    return r.length === 2 ? (r[0]! + r[1]!) / 2 : r[Math.floor(r.length / 2)]!;
  }
}

// Types of bench/runtime-trivial-raw.mjs.
export interface RawTrivial {
  /** Seconds on `threads` warm threads (started once, warmed by four runs). */
  warm(threads: number): Promise<number>;
  /** Seconds for new threads to start, connect and make every key once. */
  cold(threads: number): Promise<number>;
  close(): Promise<void>;
}
export function rawTrivial(
  backend: string,
  cfg: { host: string; port: number; user: string; password: string; database: string },
  keys: number,
  source: string,
  target: string,
): Promise<RawTrivial>;

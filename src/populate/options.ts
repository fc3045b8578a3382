/** The public option and result types of `populate` (API.md §6), shared by the key loop, the pool and the schema. */
import type { Row } from '../fetch/fetch.js';

/** Options of `populate` (API.md §6). */
export interface PopulateOptions {
  /** Restricts the key source (anything `restrict` takes: an object, a SQL string, a query, a list). */
  restrict?: unknown;
  /** Record a failing make and go on with the other keys, instead of throwing its error. */
  suppressErrors?: boolean;
  /** Reserve each key in the jobs table before making it, so several workers can share the keys. */
  reserveJobs?: boolean;
  /** Makes to attempt at most (successes and failures; a non-negative integer). */
  maxCalls?: number;
  /** Draw a progress bar with rate and ETA on stderr. */
  displayProgress?: boolean;
  /** Worker threads that make the keys (a positive integer; 1, the default, makes them in this thread). */
  processes?: number;
  /** Passed to `make` / `makeFetch` as their second argument (sent to worker threads: data only). */
  makeKwargs?: Record<string, unknown>;
  /** With reserveJobs: the priority of the jobs a refresh adds, and only jobs this urgent or more are made (lower is more urgent). */
  priority?: number;
  /** With reserveJobs: refresh the jobs table from the key source first (default: `jobs.auto_refresh`). */
  refresh?: boolean;
}

/** What `populate` did. */
export interface PopulateResult {
  /** Makes that committed. */
  success: number;
  /** Makes that failed (with suppressErrors; otherwise the first failure is thrown). */
  error: number;
  /** Keys already done or reserved by another worker when their turn came. */
  skip: number;
  /** Each failed key with its error. */
  errors: Array<{ key: Row; error: Error }>;
}

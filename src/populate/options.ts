/** The public option and result types of `populate` (API.md §6), shared by the key loop, the pool and the schema, and their check. */
import type { Row } from '../fetch/fetch.js';
import { DataJointError } from '../errors.js';

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

/** Every option name of populate, checked complete against PopulateOptions by the compiler. */
const POPULATE_OPTION_NAMES = Object.keys({
  restrict: true,
  suppressErrors: true,
  reserveJobs: true,
  maxCalls: true,
  displayProgress: true,
  processes: true,
  makeKwargs: true,
  priority: true,
  refresh: true,
} satisfies Record<keyof PopulateOptions, true>);

const camelCase = (name: string): string => name.replace(/_+([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/**
 * Refuse what populate would otherwise silently ignore, as DataJoint Python's TypeError for an
 * unknown keyword does: a misspelt option (`reserve_jobs`, the Python spelling) would run
 * without reserving, `max_calls` would make every key. `where` names the call in the message.
 */
export function checkPopulateOptions(opts: unknown, where: string): asserts opts is PopulateOptions | undefined {
  checkOptions(opts, POPULATE_OPTION_NAMES, where);
}

/**
 * Refuse an options object with a name outside `names` (the Python spelling names the camelCase
 * one), or something that is no options object: jobs.refresh({ orphan_timeout }) would otherwise
 * recover nothing, silently.
 */
export function checkOptions(opts: unknown, names: readonly string[], where: string): void {
  if (opts === undefined) return;
  const proto = opts !== null && typeof opts === 'object' ? (Object.getPrototypeOf(opts) as unknown) : undefined;
  if (proto !== Object.prototype && proto !== null)
    throw new DataJointError(`${where} takes an options object (pass a restriction as { restrict: ... }), got ${opts === null ? 'null' : typeof opts === 'function' ? 'a function or class' : Array.isArray(opts) ? 'an array' : typeof opts === 'object' ? 'a query expression or other object' : typeof opts}`);
  const unknown = Object.keys(opts as object).filter((k) => !names.includes(k));
  if (!unknown.length) return;
  const said = unknown.map((k) => (names.includes(camelCase(k)) ? `${k}: did you mean ${camelCase(k)}?` : k));
  throw new DataJointError(`${where}: unknown option${unknown.length > 1 ? 's' : ''} ${said.join('; ')} (the options are ${names.join(', ')})`);
}

/** A populate result with nothing in it. */
export const emptyResult = (): PopulateResult => ({ success: 0, error: 0, skip: 0, errors: [] });


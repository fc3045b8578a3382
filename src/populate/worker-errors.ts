/**
 * Errors across the thread boundary of populate's worker pool: a worker sends an error as plain
 * data, and the main thread makes it an instance of its class again when that class is known
 * here. No dependency on the pool itself, so the tiers can use it without loading piscina.
 */
import { DataJointError, errors as errorClasses } from '../errors.js';
import { FetchedDataChanged } from './make.js';
import { PopulateInterrupted } from './signals.js';
import { UnsendableValue } from './transfer.js';

/**
 * A populate worker thread ended while making a key, by no error of the make's own class: the
 * thread exited (process.exit) or ran out of memory. `cause` is Node's error for it. (An exception
 * a make threw where nothing caught it, e.g. in a timer, is reported as itself.)
 */
export class WorkerCrashedError extends DataJointError {}

/**
 * Whether `err`, the error a pool task failed with, is its thread's own end rather than an
 * exception the make left uncaught: Piscina's `worker exited with code: N` (process.exit, or a
 * thread that ended otherwise) or Node's ERR_WORKER_OUT_OF_MEMORY. Both are plain Errors, as an
 * uncaught `throw new Error(...)` is too, so the class alone cannot tell them apart.
 */
export function isThreadEnd(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return true;
  return err.constructor === Error && code === undefined && /^worker exited with code: -?\d+$/.test(err.message);
}

/** An error as plain data (it crosses a thread boundary). */
export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
}

const BUILTIN_ERRORS: Record<string, new (message?: string) => Error> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };
const KNOWN_ERRORS: Record<string, new (message: string) => Error> = { ...BUILTIN_ERRORS, ...errorClasses, FetchedDataChanged, PopulateInterrupted, WorkerCrashedError, UnsendableValue };

/** An error from a worker, as an instance of its class again when that class is known here. */
export function reviveError(e: WorkerError): Error {
  const Cls = Object.hasOwn(KNOWN_ERRORS, e.name) ? KNOWN_ERRORS[e.name]! : null;
  const err = Cls ? new Cls(e.message) : new DataJointError(e.message);
  if (err.name !== e.name) err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

/** Sets `err.stack` to the frames of `stack` under `err`'s own first line (its name and message). */
export function restack(err: Error, stack: string | undefined): Error {
  if (stack) {
    const frames = stack.indexOf('\n    at ');
    err.stack = `${err.name}: ${err.message}${frames >= 0 ? stack.slice(frames) : ''}`;
  }
  return err;
}

export function serializeError(e: Error): WorkerError {
  return { name: e.name, message: e.message, stack: e.stack };
}

const COMPUTE_FAILED = '__datajoint_compute_failed__';
/** A compute step's failure as the worker's result (see thrownByCompute). */
export function computeFailure(e: unknown): Record<string, WorkerError> {
  return { [COMPUTE_FAILED]: serializeError(e instanceof Error ? e : new Error(String(e))) };
}
/** The error a compute step's result stands for, of its class again; null for a real result. */
export function thrownByCompute(result: unknown): Error | null {
  if (result === null || typeof result !== 'object' || !Object.hasOwn(result, COMPUTE_FAILED)) return null;
  return reviveError((result as Record<string, WorkerError>)[COMPUTE_FAILED]!);
}

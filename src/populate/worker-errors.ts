/**
 * Errors across the thread boundary of populate's worker pool: a worker sends an error as plain
 * data, and the main thread makes it an instance of its class again when that class is known
 * here. No dependency on the pool itself, so the tiers can use it without loading piscina.
 */
import { DataJointError, errors as errorClasses, toError } from '../errors.js';
import { FetchedDataChanged } from './make.js';
import { PopulateInterrupted } from './signals.js';
import { DetachedData, UnsendableValue } from './transfer.js';

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

/**
 * An error as plain data (it crosses a thread boundary). Its class cannot cross: the receiving
 * thread has its own copy of every class, and only the library's and JavaScript's own are
 * known there (reviveError), so what travels is what a caller reads off an error.
 */
export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
  /** `cause`: an error (as data) or a value structured clone can send; absent when none. */
  cause?: { error: WorkerError } | { value: unknown };
  /** The error's own enumerable fields (a `code`, `details`) that structured clone can send. */
  fields?: Record<string, unknown>;
}

const BUILTIN_ERRORS: Record<string, new (message?: string) => Error> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };
const KNOWN_ERRORS: Record<string, new (message: string) => Error> = { ...BUILTIN_ERRORS, ...errorClasses, FetchedDataChanged, PopulateInterrupted, WorkerCrashedError, UnsendableValue, DetachedData };

/**
 * An error from a worker with what it said: name, message, stack, cause and its own fields. It
 * is an instance of its class again when that class is the library's or a built-in one; an
 * error of another class (the user's own) is a DataJointError with that class's name, since
 * the class itself stays on the other thread.
 */
export function reviveError(e: WorkerError): Error {
  const Cls = Object.hasOwn(KNOWN_ERRORS, e.name) ? KNOWN_ERRORS[e.name]! : null;
  const err = Cls ? new Cls(e.message) : new DataJointError(e.message);
  // Defined, not assigned: a field may share its name with a getter of the class revived here.
  if (e.fields) for (const [k, value] of Object.entries(e.fields)) Object.defineProperty(err, k, { value, writable: true, enumerable: true, configurable: true });
  if (err.name !== e.name) err.name = e.name;
  if (e.stack) err.stack = e.stack;
  if (e.cause) {
    const cause = 'error' in e.cause ? reviveError(e.cause.error) : e.cause.value;
    Object.defineProperty(err, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  }
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

/** `value` if structured clone can send it as it is, else undefined. */
function sendable(value: unknown): { value: unknown } | undefined {
  try {
    structuredClone(value);
    return { value };
  } catch {
    return undefined;
  }
}

const OWN = new Set(['name', 'message', 'stack', 'cause']);
/** An error as plain data; a chain of causes is followed a few levels deep (and never round a cycle). */
export function serializeError(e: Error, depth = 0, seen = new Set<Error>()): WorkerError {
  seen.add(e);
  const out: WorkerError = { name: e.name, message: e.message, stack: e.stack };
  const fields: Record<string, unknown> = {};
  for (const k of Object.keys(e)) {
    if (OWN.has(k)) continue;
    const v = sendable((e as unknown as Record<string, unknown>)[k]);
    if (v) fields[k] = v.value;
  }
  if (Object.keys(fields).length) out.fields = fields;
  if (e.cause !== undefined) {
    if (e.cause instanceof Error) {
      if (depth < 8 && !seen.has(e.cause)) out.cause = { error: serializeError(e.cause, depth + 1, seen) };
    } else out.cause = sendable(e.cause) ?? { value: String(e.cause) };
  }
  return out;
}

const COMPUTE_FAILED = '__datajoint_compute_failed__';
/** A compute step's failure as the worker's result (see thrownByCompute). */
export function computeFailure(e: unknown): Record<string, WorkerError> {
  return { [COMPUTE_FAILED]: serializeError(toError(e)) };
}
/** The error a compute step's result stands for, of its class again; null for a real result. */
export function thrownByCompute(result: unknown): Error | null {
  if (result === null || typeof result !== 'object' || !Object.hasOwn(result, COMPUTE_FAILED)) return null;
  return reviveError((result as Record<string, WorkerError>)[COMPUTE_FAILED]!);
}

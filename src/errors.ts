/**
 * Error hierarchy (API.md §5). Every error the library raises on purpose is a DataJointError,
 * so callers can catch one class; subclasses say what went wrong.
 */
import { inspect } from 'node:util';

export class DataJointError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * What a `throw` threw, as an Error: an Error as it is; anything else (`throw { reason }`,
 * `throw 'oops'`) a DataJointError that shows the value (String() of an object says only
 * "[object Object]"), the value itself as its `cause`.
 */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (thrown === null || thrown === undefined) return new DataJointError(`${String(thrown)} was thrown, not an Error`, { cause: thrown });
  const what = Array.isArray(thrown) ? 'an array' : typeof thrown === 'object' ? 'an object' : `a ${typeof thrown}`;
  const shown = inspect(thrown, { depth: 3, breakLength: Infinity, maxArrayLength: 20, maxStringLength: 500 });
  return new DataJointError(`${what} was thrown, not an Error: ${shown}`, { cause: thrown });
}

/**
 * The server refused a query or a change (DataJoint Python's QueryError): the parent of
 * QuerySyntaxError, AccessError, DuplicateError, IntegrityError, UnknownAttributeError and
 * MissingAttributeError, so `catch (e) { if (e instanceof dj.errors.QueryError) … }` takes them all.
 */
export class QueryError extends DataJointError {}
/** Bad SQL produced from user input (invalid restriction string, unknown column in an expression...). */
export class QuerySyntaxError extends QueryError {}
/** The connection to the server was lost (and could not be re-established). */
export class LostConnectionError extends DataJointError {}
/** The server could not be reached at all (refused, unknown host, timed out). */
export class ConnectError extends LostConnectionError {}
/** The server rolled back the whole transaction as a deadlock victim; retrying it is safe. */
export class DeadlockError extends DataJointError {}
/**
 * A statement failed inside a transaction on a backend that aborts the whole transaction at a
 * failed statement (PostgreSQL), even when the caller caught the error: the transaction (or
 * the nested transaction around the statement) was rolled back, and statements sent after the
 * failure are refused. The cause is the statement's own error. A statement that may fail
 * without spoiling the rest belongs in a nested `conn.transaction` (a savepoint).
 */
export class TransactionAbortedError extends DataJointError {}
/** Why a caught failure still loses the transaction (the middle of TransactionAbortedError messages). */
export const ABORTED_AT_FAILED_STATEMENT = 'PostgreSQL aborts the whole transaction at a failed statement, even when its error is caught';
/** How to let a statement fail without losing the rest of its transaction (ends TransactionAbortedError messages). */
export const KEEP_THE_REST_ADVICE =
  'To keep the rest of a transaction when a statement may fail, run that statement in a nested conn.transaction(...) ' +
  "(a savepoint) and catch its error outside the nested call: only the nested call's work is undone.";
/** No pooled connection became free in time (every one is held, e.g. by open transactions). */
export class PoolTimeoutError extends DataJointError {}
/** A backend cannot run here (e.g. no embedded PostgreSQL binaries for this platform). */
export class BackendUnavailableError extends DataJointError {}
/** The server refused the operation for lack of privileges. */
export class AccessError extends QueryError {}
/** A table that the operation needs does not exist. */
export class MissingTableError extends DataJointError {}
/** A row with the same primary key (or unique index) already exists. */
export class DuplicateError extends QueryError {}
/** A referential-integrity or other constraint would be violated. */
export class IntegrityError extends QueryError {}
/**
 * A DELETE refused because rows of another table still reference a row it deletes. A
 * cascading delete meets it when a row referencing one of its rows was inserted (and
 * committed) after it planned: it then plans and runs again.
 */
export class ReferencedRowError extends IntegrityError {}
/** A row names an attribute that the table does not have. */
export class UnknownAttributeError extends QueryError {}
/**
 * A statement built from this process's copy of a table's definition named a column the table
 * no longer has (or a row named one the copy lacked): another process altered the table. The
 * copy has been replaced by the table's current definition, so running the call again works.
 */
export class TableChangedError extends UnknownAttributeError {}
/** A row lacks a value for an attribute that has no default. */
export class MissingAttributeError extends QueryError {}
/** An object-store file referenced by a row is missing. */
export class MissingExternalFile extends DataJointError {}
/** An object-store bucket cannot be reached or accessed. */
export class BucketInaccessible extends DataJointError {}
/** A table definition cannot be parsed or declared. Message quotes the offending line. */
export class DeclarationError extends DataJointError {}
/** A blob is corrupt, truncated, or holds a value that cannot be represented. */
export class BlobError extends DataJointError {}
/** A value of the wrong type for an attribute. */
export class AttributeTypeError extends DataJointError {}

export const errors = {
  DataJointError,
  QueryError,
  QuerySyntaxError,
  LostConnectionError,
  ConnectError,
  DeadlockError,
  TransactionAbortedError,
  PoolTimeoutError,
  BackendUnavailableError,
  AccessError,
  MissingTableError,
  DuplicateError,
  IntegrityError,
  ReferencedRowError,
  UnknownAttributeError,
  TableChangedError,
  MissingAttributeError,
  MissingExternalFile,
  BucketInaccessible,
  DeclarationError,
  BlobError,
  AttributeTypeError,
} as const;

/**
 * Transaction scopes: what `Connection.transaction` keeps per open transaction and per nesting
 * level, and the rules that keep a transaction's work its own.
 *
 * - Nested transactions of one level run one after another (a queue per level), and the
 *   level's own statements wait while one of them is open: the session is one, so a savepoint
 *   set while another level's work is in flight would take that work in (its RELEASE or
 *   ROLLBACK TO would then keep or undo the wrong rows). Statements inside the nested
 *   transaction are its own level and do not wait for it.
 * - Where a failed statement aborts the whole transaction (PostgreSQL), the failure is kept:
 *   later statements are refused without a round trip, a nested transaction around it is
 *   rolled back to its savepoint (which ends the aborted state), and the top level refuses to
 *   commit, even when the caller caught the statement's error.
 */
import { ABORTED_AT_FAILED_STATEMENT, DataJointError, DeadlockError, KEEP_THE_REST_ADVICE, LostConnectionError, TransactionAbortedError } from '../errors.js';
import type { Session } from '../adapters/adapter.js';

/** One open top-level transaction, shared by the nested transactions inside it. */
export interface OpenTransaction {
  readonly session: Session;
  /**
   * Why the transaction cannot go on: the statement whose failure aborted it (until a nested
   * transaction begun before the failure rolls back to its savepoint), or a savepoint that
   * could not be rolled back to or released (`final`: nothing but the top-level rollback ends it).
   */
  failure: Error | null;
  final: boolean;
}

/** One level of a transaction: the top level (depth 1) or a nested transaction (a savepoint). */
export interface TxScope {
  readonly tx: OpenTransaction;
  readonly depth: number;
  /** Nested transactions of this level that are open or waiting for their turn. */
  pending: number;
  /** Settles when the nested transactions queued so far at this level have ended. */
  tail: Promise<void>;
  /** What to undo outside the database if this level's work is rolled back (Connection.onRollback). */
  undo: Array<() => Promise<void>>;
}

export function topScope(session: Session): TxScope {
  return { tx: { session, failure: null, final: false }, depth: 1, pending: 0, tail: Promise.resolve(), undo: [] };
}

export function childScope(parent: TxScope): TxScope {
  return { tx: parent.tx, depth: parent.depth + 1, pending: 0, tail: Promise.resolve(), undo: [] };
}

/** Run a rolled-back level's undo actions (best effort: what fails stays for `dj.gc`). */
export async function runUndo(scope: TxScope): Promise<void> {
  const undo = scope.undo.splice(0);
  await Promise.all(undo.map((u) => u().catch(() => undefined)));
}

/** Wait until no nested transaction of this level is open or queued. */
export async function settled(scope: TxScope): Promise<void> {
  while (scope.pending) await scope.tail;
}

/**
 * Take the next turn among the nested transactions of `parent`: resolves when every earlier
 * one has ended; call the returned function when this one has ended.
 */
export async function takeTurn(parent: TxScope): Promise<() => void> {
  const before = parent.tail;
  let end!: () => void;
  const mine = new Promise<void>((resolve) => (end = resolve));
  parent.tail = before.then(() => mine);
  parent.pending++;
  await before;
  return () => {
    parent.pending--;
    end();
  };
}

/** The session a statement of `scope` runs on, once the level is free; refused on an aborted transaction. */
export async function statementSession(scope: TxScope): Promise<Session> {
  if (scope.pending) await settled(scope);
  if (scope.tx.failure) throw abortedBefore(scope.tx);
  return scope.tx.session;
}

/** After a statement of the transaction failed: keep the failure when the server aborted the transaction with it. */
export function noteFailure(tx: OpenTransaction, err: unknown): void {
  if (!tx.failure && tx.session.transactionAborted) tx.failure = asError(err);
}

/** A savepoint could not be rolled back to or released: the transaction's state is unknown, so it cannot commit. */
export function noteSavepointFailure(tx: OpenTransaction, err: unknown): void {
  if (!tx.final) tx.failure = asError(err);
  tx.final = true;
}

/**
 * Whether an error means the server ended the whole transaction (a lost connection, a deadlock
 * victim): reported as itself, so that callers can tell (populate redoes such work).
 */
export function endsTransaction(err: unknown): err is LostConnectionError | DeadlockError {
  return err instanceof LostConnectionError || err instanceof DeadlockError;
}

/** A new error of the same class as one that ended the transaction, for the next statement that runs into it. */
function again(err: LostConnectionError | DeadlockError): DataJointError {
  const Class = err.constructor as new (message: string, options?: { cause?: unknown }) => DataJointError;
  return new Class(err.message, { cause: err });
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new DataJointError(String(err));
}

function describe(err: Error): string {
  return `${err.name}: ${err.message.split('\n')[0]}`;
}

/** For a statement sent after the failure. */
export function abortedBefore(tx: OpenTransaction): DataJointError {
  const failure = tx.failure!;
  if (endsTransaction(failure)) return again(failure);
  if (tx.final)
    return new TransactionAbortedError(`The transaction cannot go on and will be rolled back: ${describe(failure)}`, { cause: failure });
  return new TransactionAbortedError(
    `The transaction is aborted: an earlier statement in it failed (${describe(failure)}), and ${ABORTED_AT_FAILED_STATEMENT}, ` +
      `so it refuses every further statement and the transaction will be rolled back. ${KEEP_THE_REST_ADVICE}`,
    { cause: failure },
  );
}

/** For a transaction (nested or not) whose function returned although a statement in it had aborted it. */
export function rolledBack(tx: OpenTransaction, nested: boolean): DataJointError {
  const failure = tx.failure!;
  if (endsTransaction(failure)) return again(failure);
  if (tx.final)
    return new TransactionAbortedError(`The transaction was rolled back, nothing of it was saved: ${describe(failure)}`, { cause: failure });
  const what = nested
    ? 'The nested transaction was rolled back to its savepoint (the enclosing transaction goes on)'
    : 'The transaction was rolled back, nothing of it was saved';
  return new TransactionAbortedError(
    `${what}: a statement in it failed (${describe(failure)}), and ${ABORTED_AT_FAILED_STATEMENT}. ${KEEP_THE_REST_ADVICE}`,
    { cause: failure },
  );
}

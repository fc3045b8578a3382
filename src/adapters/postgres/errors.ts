/**
 * node-postgres errors → `dj.errors` classes, by SQLSTATE (the server's error code) and, for
 * errors raised by the client itself (a dropped socket, a refused connection), by Node's
 * error code or the driver's message. Sessions translate every error they raise, so the core
 * only ever sees DataJointError subclasses.
 */
import {
  ABORTED_AT_FAILED_STATEMENT,
  AccessError,
  ConnectError,
  DataJointError,
  DeadlockError,
  DuplicateError,
  IntegrityError,
  ReferencedRowError,
  KEEP_THE_REST_ADVICE,
  LostConnectionError,
  MissingAttributeError,
  MissingTableError,
  QuerySyntaxError,
  TransactionAbortedError,
  UnknownAttributeError,
} from '../../errors.js';
import type { ErrorTranslator } from '../adapter.js';

/** The fields of a pg DatabaseError (or a Node socket error) this module reads. */
interface PgErrorLike {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  schema?: string;
  table?: string;
  constraint?: string;
}

const LOST_SQLSTATES = new Set(['08000', '08003', '08006', '57P01', '57P02', '57P03']);
const LOST_NODE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const CONNECT_NODE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const INVALID_VALUE = new Set(['23514', '22001', '22003', '22P02', '22007', '22008', '22021']);
const SYNTAX = new Set(['42601', '42883', '42804', '42P18']);
const ACCESS = new Set(['42501', '28P01', '28000']);

/** Whether an error means the connection is gone (the statement's outcome is unknown). */
export function isConnectionLost(err: unknown): boolean {
  const e = err as PgErrorLike | null;
  if (!e || typeof e !== 'object') return false;
  if (e.code && (LOST_SQLSTATES.has(e.code) || LOST_NODE_CODES.has(e.code))) return true;
  const msg = e.message ?? '';
  return /^Connection terminated|Client has encountered a connection error|not queryable|Client was closed/i.test(msg);
}

/**
 * Whether the server refused a statement with an ERROR (a DatabaseError, not a lost or
 * unreachable connection): inside a transaction, that aborts the transaction.
 */
export function refusedByServer(err: unknown): boolean {
  const e = err as (PgErrorLike & { severity?: string }) | null;
  return !!e && typeof e === 'object' && e.severity === 'ERROR' && typeof e.code === 'string' && !isConnectionLost(err);
}

/** Whether an error arose while reaching the server at all. */
export function isConnectFailure(err: unknown): boolean {
  const e = err as PgErrorLike | null;
  if (!e || typeof e !== 'object') return false;
  if (e.code && CONNECT_NODE_CODES.has(e.code)) return true;
  if (e.code === '3D000') return true; // the configured database does not exist
  return /connection timeout|timeout expired|does not support SSL/i.test(e.message ?? '');
}

function withDetail(e: PgErrorLike): string {
  const msg = e.message ?? String(e);
  return e.detail ? `${msg} (${e.detail})` : msg;
}

function sqlSuffix(sql?: string): string {
  return sql ? `\nSQL: ${sql.length > 500 ? sql.slice(0, 500) + '…' : sql}` : '';
}

/** The server's words for several `;`-separated statements in one text (the extended protocol runs one). */
function multipleHint(msg: string): string {
  return /multiple commands/i.test(msg) ? ': a statement is one SQL command, so an SQL fragment (restriction, orderBy, proj or aggr expression) must not contain `;`' : '';
}

/** An error translator; `target` (`host:port`) names the server in connection errors. */
export function createPostgresErrors(target: string): ErrorTranslator {
  return {
    translateError(err: unknown, sql?: string): Error {
      if (err instanceof DataJointError) return err;
      const e = err as PgErrorLike | null;
      if (!e || typeof e !== 'object') return new DataJointError(String(err));
      const msg = e.message ?? String(err);
      const opts = { cause: err };
      if (isConnectFailure(err)) return new ConnectError(`cannot connect to ${target}: ${msg}`, opts);
      if (isConnectionLost(err)) return new LostConnectionError(`Lost connection to the database server at ${target}: ${msg}`, opts);
      const code = e.code ?? '';
      const where = e.table ? ` in "${e.schema ?? ''}"."${e.table}"` : '';
      if (code === '23505') {
        const which = e.constraint ? ` (constraint "${e.constraint}")` : '';
        return new DuplicateError(`Duplicate entry${where}${which}: ${withDetail(e)}`, opts);
      }
      // 21000 from ON CONFLICT DO UPDATE: the rows of one replace (an insert from a query) hold one key twice.
      if (code === '21000' && /ON CONFLICT DO UPDATE/i.test(msg))
        return new DuplicateError(`Duplicate entry${where}: the rows of a replace hold one primary key twice, so which one to keep is undefined (${msg})`, opts);
      // 23001: PostgreSQL 18 reports ON DELETE RESTRICT violations as restrict_violation.
      if (code === '23503' || code === '23001') {
        const Class = sql && /^\s*DELETE\b/i.test(sql) ? ReferencedRowError : IntegrityError;
        return new Class(`Foreign key constraint violated${where}: ${withDetail(e)}`, opts);
      }
      if (code === '23502') return new MissingAttributeError(msg, opts);
      if (INVALID_VALUE.has(code)) return new IntegrityError(`Invalid value: ${withDetail(e)}`, opts);
      if (SYNTAX.has(code)) return new QuerySyntaxError(msg + (e.hint ? ` (${e.hint})` : '') + multipleHint(msg) + sqlSuffix(sql), opts);
      if (code === '42P01' || code === '3F000') return new MissingTableError(msg, opts);
      if (code === '42703') return new UnknownAttributeError(msg + sqlSuffix(sql), opts);
      if (ACCESS.has(code)) return new AccessError(msg, opts);
      if (code === '25P02')
        return new TransactionAbortedError(
          `${msg}: an earlier statement of this transaction failed, and ${ABORTED_AT_FAILED_STATEMENT}; ` +
            `the transaction will be rolled back. ${KEEP_THE_REST_ADVICE}${sqlSuffix(sql)}`,
          opts,
        );
      if (code === '40P01' || code === '40001') return new DeadlockError(`Transaction rolled back by the server: ${msg}`, opts);
      return new DataJointError(msg + sqlSuffix(sql), opts);
    },
  };
}

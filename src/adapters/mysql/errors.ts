/**
 * mysql2 errors → `dj.errors` classes, by MySQL errno (and the driver's network codes).
 */
import {
  AccessError,
  ConnectError,
  DataJointError,
  DeadlockError,
  DuplicateError,
  IntegrityError,
  ReferencedRowError,
  LostConnectionError,
  MissingAttributeError,
  MissingTableError,
  QuerySyntaxError,
  UnknownAttributeError,
} from '../../errors.js';
import type { ErrorTranslator } from '../adapter.js';
import { REPLACE_CLASH } from './dialect.js';

/** Driver codes meaning the connection is gone (the statement may or may not have run). */
const LOST_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'EPIPE',
  'ER_SERVER_SHUTDOWN',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_CLIENT_INTERACTION_TIMEOUT',
  'ER_CONNECTION_KILLED',
]);
/** Codes meaning the server could not be reached at all. */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ER_CON_COUNT_ERROR']);

interface DriverError {
  code?: string;
  errno?: number;
  sqlMessage?: string;
  message?: string;
  fatal?: boolean;
  address?: string;
  port?: number;
}

export function isConnectionLost(err: unknown): boolean {
  const e = err as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  return (e.code !== undefined && LOST_CODES.has(e.code)) || e.errno === 2006 || e.errno === 2013 || e.errno === 1927 || (e.fatal === true && !e.sqlMessage && !CONNECT_CODES.has(e.code ?? ''));
}

/** The table an INSERT, REPLACE or UPDATE writes (MySQL's messages do not name it). */
function tableOf(sql: string): string | null {
  const m = /^\s*(?:INSERT|REPLACE)\s+(?:IGNORE\s+)?INTO\s+((?:`(?:[^`]|``)+`\.)?`(?:[^`]|``)+`)|^\s*UPDATE\s+((?:`(?:[^`]|``)+`\.)?`(?:[^`]|``)+`)/i.exec(sql);
  return m ? (m[1] ?? m[2])! : null;
}

/** A MySQL client waits for the server's greeting; a PostgreSQL server waits for the client's: both wait until the timeout. */
const TIMEOUT_HINT = ' (no MySQL server answered: nothing reachable there, or a server of another kind, such as PostgreSQL, which DJ_BACKEND=postgresql selects)';

export function mysqlErrors(where: { host: string; port: number }): ErrorTranslator {
  return {
    translateError(err: unknown, sql?: string): Error {
      if (err instanceof DataJointError) return err;
      const e = err as DriverError;
      if (!e || typeof e !== 'object') return new DataJointError(String(err));
      const msg = e.sqlMessage ?? e.message ?? String(err);
      const at = sql ? `\nSQL: ${sql.length > 500 ? sql.slice(0, 500) + '…' : sql}` : '';
      const opts = { cause: err };
      if (e.code && CONNECT_CODES.has(e.code) && !e.sqlMessage)
        return new ConnectError(`cannot connect to ${where.host}:${where.port} (MySQL server): ${msg}${e.code === 'ETIMEDOUT' ? TIMEOUT_HINT : ''}`, opts);
      if (isConnectionLost(err)) return new LostConnectionError(`Lost connection to the MySQL server at ${where.host}:${where.port}: ${msg}`, opts);
      // A server older than JSON_VALUE (MySQL < 8.0.21): a JSON path restriction or projection.
      if (e.errno === 1305 && /json_value/i.test(msg))
        return new QuerySyntaxError(`JSON paths (attr.key) need JSON_VALUE, which this server lacks (MySQL 8.0.21+ or MariaDB 10.2.3+ have it): ${msg}${at}`, opts);
      switch (e.errno) {
        case 1213:
          return new DeadlockError(`Deadlock: the server rolled back the transaction (${msg})`, opts);
        case 1062: {
          // MySQL does not name the table: the statement does.
          const table = sql ? tableOf(sql) : null;
          return new DuplicateError(`${msg}${table ? ` in ${table}` : ''}`, opts);
        }
        case 1242:
          // The check of a replace (dialect.ts): the row met another row on a unique index.
          if (sql?.includes(REPLACE_CLASH))
            return new DuplicateError(`Duplicate entry: a replaced row has the value of another row (another primary key) in a unique index of ${tableOf(sql) ?? 'the table'}`, opts);
          break;
        case 1451:
        case 1217:
          // A parent row still referenced (1451, 1217): by a DELETE, a ReferencedRowError.
          return new (sql && /^\s*DELETE\b/i.test(sql) ? ReferencedRowError : IntegrityError)(`Foreign key constraint violated: ${msg}`, opts);
        case 1452:
        case 1216:
          return new IntegrityError(`Foreign key constraint violated: ${msg}`, opts);
        case 1048:
        case 1364:
          return new MissingAttributeError(msg, opts);
        case 1054:
          return new UnknownAttributeError(msg + at, opts);
        case 1146:
        case 1049:
          return new MissingTableError(msg, opts);
        case 1044:
        case 1045:
        case 1698: // access denied to a user without a password (MariaDB's answer for 'nobody')
        case 1142:
        case 1143:
        case 1227:
          return new AccessError(msg, opts);
        case 1064:
        case 1111:
        case 1241:
        case 1582:
        case 1583:
        case 1584:
        case 1630:
          return new QuerySyntaxError(msg + at, opts);
        case 1406:
        case 1264:
        case 1265:
        case 1292:
        case 1366:
        case 3140:
        case 4025:
          return new IntegrityError(`Invalid value: ${msg}`, opts);
      }
      return new DataJointError(msg + at, opts);
    },
  };
}

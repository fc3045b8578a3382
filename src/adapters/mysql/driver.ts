/**
 * MySQL sessions on a mysql2 pool: per-statement pooled sessions, held sessions for
 * transactions, batched streaming from one cursor, and a bounded wait for a free connection.
 */
import mysql from 'mysql2';
import type { FieldPacket, Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2';
import { DataJointError, PoolTimeoutError } from '../../errors.js';
import type { ValueKind } from '../../heading/kinds.js';
import type { Adapter, ArrayResult, ConnectOptions, ErrorTranslator, ExecResult, FieldInfo, Row, Session, SqlValue, StreamOptions } from '../adapter.js';
import { utcDatetimeText } from '../../connection/datetime.js';
import { mysqlDialect } from './dialect.js';
import { isConnectionLost, mysqlErrors } from './errors.js';
import { formatQuery } from './format.js';
import { BATCH_BYTES, mib, rowBytes } from '../row-bytes.js';
import { mysqlIntrospector } from './introspector.js';

/** mysql2 column type codes → value kinds (for computed columns such as `max(d)`). */
function kindOf(f: FieldPacket): ValueKind {
  switch (f.columnType) {
    case 1: // TINY
    case 2: // SHORT
    case 3: // LONG
    case 9: // INT24
    case 13: // YEAR
      return 'int';
    case 8: // LONGLONG
      return 'bigint';
    case 4: // FLOAT
    case 5: // DOUBLE
      return 'float';
    case 0: // DECIMAL
    case 246: // NEWDECIMAL
      return 'decimal';
    case 10: // DATE
    case 14: // NEWDATE
      return 'date';
    case 7: // TIMESTAMP
    case 12: // DATETIME
      return 'datetime';
    case 11:
      return 'time';
    case 245:
      return 'json';
    default:
      return f.characterSet === 63 ? 'bytes' : 'string';
  }
}

function fieldsOf(fields: FieldPacket[] | undefined): FieldInfo[] {
  return (fields ?? []).map((f) => ({ name: f.name, kind: kindOf(f) }));
}

type Lease = { conn: PoolConnection; done: () => void };

/** Bytes worth a prepared statement: at least 64 KiB of binary values in the statement. */
const BINARY_THRESHOLD = 64 * 1024;

function binaryWorthIt(params: readonly SqlValue[]): boolean {
  let bytes = 0;
  for (const p of params) if (p instanceof Uint8Array) bytes += p.byteLength;
  return bytes >= BINARY_THRESHOLD;
}

/**
 * Values as the binary protocol takes them: mysql2 sends a Buffer as is (a Uint8Array view is
 * wrapped without copying), a bigint as text (it would otherwise be refused), a Date as UTC text.
 */
function forBinaryProtocol(v: SqlValue): unknown {
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return utcDatetimeText(v);
  return v;
}

/**
 * Values as the text protocol takes them: mysql2 escapes the rest itself, but would write a
 * Date to the millisecond, dropping the microseconds a dj.blob.DateTime carries.
 */
function forTextProtocol(params: readonly SqlValue[] | undefined): unknown[] | undefined {
  return params?.some((v) => v instanceof Date) ? params.map((v) => (v instanceof Date ? utcDatetimeText(v) : v)) : (params as unknown[] | undefined);
}

/** Each connection's max_allowed_packet, read when it first sends a large statement. */
const maxPacket = new WeakMap<PoolConnection, Promise<number>>();
/** About how many bytes a statement sends: its text and its values (text-protocol escaping aside). */
function statementBytes(sql: string, params: readonly SqlValue[] | undefined): number {
  let bytes = sql.length;
  if (params) for (const p of params) bytes += p instanceof Uint8Array ? p.byteLength : typeof p === 'string' ? Buffer.byteLength(p) : 16;
  return bytes;
}

/** Below any server's minimum max_allowed_packet (1 MiB): such statements are never checked. */
const SMALL_STATEMENT = 1 << 20;

/**
 * A statement larger than the server's max_allowed_packet is refused here. Sent, the server
 * drops the connection: its error ("packet bigger than max_allowed_packet") or, as often, a
 * reset of the socket mid-write, which reads as a lost connection that may have written the row.
 */
async function refuseOverPacket(c: PoolConnection, bytes: number): Promise<void> {
  let limit = maxPacket.get(c);
  if (!limit) {
    limit = new Promise<number>((resolve, reject) =>
      c.query<RowDataPacket[]>({ sql: 'SELECT @@max_allowed_packet AS m', rowsAsArray: true }, (err, rows) => (err ? reject(err) : resolve(Number((rows as unknown as unknown[][])[0]![0])))),
    );
    maxPacket.set(c, limit);
  }
  const max = await limit;
  if (bytes + 1024 > max)
    throw new DataJointError(`The statement's values (${mib(bytes)}) exceed the MySQL server's max_allowed_packet (${mib(max)}): raise max_allowed_packet on the server (SET GLOBAL max_allowed_packet = …, up to 1 GiB), or keep values this large in an object store (<blob@store>)`);
}

class MysqlSession implements Session {
  constructor(
    private readonly lease: () => Promise<Lease>,
    private readonly errors: ErrorTranslator,
    readonly connectionId: number,
    /** The session holds one connection for a transaction: it must outlive an abandoned stream. */
    private readonly held = false,
  ) {}

  /** A failed statement undoes only itself: the transaction goes on. */
  readonly transactionAborted = false;

  private async run<T>(sql: string, fn: (c: PoolConnection) => Promise<T>): Promise<T> {
    const { conn, done } = await this.lease();
    try {
      return await fn(conn);
    } catch (err) {
      throw this.errors.translateError(err, sql);
    } finally {
      done();
    }
  }

  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.run(sql, (c) => new Promise<Row[]>((resolve, reject) => {
      c.query<RowDataPacket[]>({ sql, values: params as unknown[] | undefined }, (err, rows) => (err ? reject(err) : resolve(rows as Row[])));
    }));
  }

  queryArrays(sql: string, params?: readonly SqlValue[]): Promise<ArrayResult> {
    return this.run(sql, (c) => new Promise<ArrayResult>((resolve, reject) => {
      c.query<RowDataPacket[][]>({ sql, values: forTextProtocol(params), rowsAsArray: true }, (err, rows, fields) =>
        err ? reject(err) : resolve({ rows: rows as unknown[][], fields: fieldsOf(fields) }),
      );
    }));
  }

  execute(sql: string, params?: readonly SqlValue[]): Promise<ExecResult> {
    const done = (resolve: (r: ExecResult) => void, reject: (e: unknown) => void) => (err: unknown, res: ResultSetHeader) =>
      err ? reject(err) : resolve({ affectedRows: res.affectedRows, insertId: res.insertId, ...insertInfo(res.info) });
    // Statements carrying bytes go over the binary protocol (a prepared statement): the bytes
    // travel as they are, where the text protocol would send twice as many as hex for the
    // server to parse. The driver caches the prepared statement per connection.
    const bytes = statementBytes(sql, params);
    if (params && binaryWorthIt(params))
      return this.run(sql, async (c) => {
        if (bytes >= SMALL_STATEMENT) await refuseOverPacket(c, bytes);
        return new Promise<ExecResult>((resolve, reject) => {
          c.execute<ResultSetHeader>({ sql, values: params.map(forBinaryProtocol) }, done(resolve, reject));
        });
      });
    return this.run(sql, async (c) => {
      if (bytes >= SMALL_STATEMENT) await refuseOverPacket(c, bytes);
      return new Promise<ExecResult>((resolve, reject) => {
        c.query<ResultSetHeader>({ sql, values: forTextProtocol(params) }, done(resolve, reject));
      });
    });
  }

  async *stream(sql: string, params?: readonly SqlValue[], opts: StreamOptions = {}): AsyncIterable<ArrayResult> {
    const batchRows = opts.batchRows ?? 1024;
    const batchBytes = opts.batchBytes ?? BATCH_BYTES;
    const { conn, done } = await this.lease();
    // Rows arrive as the server produces them (text protocol) and are collected straight from
    // the query's row events into batches (no per-row stream machinery). When two batches wait
    // unread, the socket is paused, so memory stays bounded by about three batches.
    let fields: FieldInfo[] = [];
    const ready: unknown[][][] = [];
    let batch: unknown[][] = [];
    let bytes = 0; // of the batch being collected
    let ended = false;
    let failure: unknown = null;
    let paused = false;
    let discard = false;
    let wake: (() => void) | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const q = conn.query({ sql, values: params?.length ? forTextProtocol(params) : undefined, rowsAsArray: true });
    q.on('fields', (f: FieldPacket[]) => void (fields = fieldsOf(f)));
    q.on('result', (row: unknown) => {
      if (discard) return;
      batch.push(row as unknown[]);
      bytes += rowBytes(row as unknown[]);
      if (batch.length < batchRows && bytes < batchBytes) return;
      ready.push(batch);
      batch = [];
      bytes = 0;
      if (ready.length >= 2 && !paused) {
        paused = true;
        conn.pause();
      }
      notify();
    });
    q.on('end', () => {
      ended = true;
      notify();
    });
    q.on('error', (err: unknown) => {
      failure ??= err;
      notify();
    });
    // A dead socket may never fail the query itself: end the stream from the connection too.
    const onConnGone = (err?: unknown) => {
      failure ??= err ?? Object.assign(new Error('Connection lost: the server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true });
      notify();
    };
    conn.on('error', onConnGone);
    conn.on('end', onConnGone);
    let finished = false;
    let yielded = false;
    try {
      for (;;) {
        if (ready.length) {
          const rows = ready.shift()!;
          if (paused && ready.length === 0) {
            paused = false;
            conn.resume();
          }
          yielded = true;
          yield { rows, fields };
          continue;
        }
        if (failure) throw failure;
        if (ended) {
          // The last, partial batch; an empty result still tells the consumer its columns.
          if (batch.length || !yielded) yield { rows: batch, fields };
          break;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
      finished = true;
    } catch (err) {
      throw this.errors.translateError(err, sql);
    } finally {
      // Abandoned mid-stream, the connection still has unread rows. A pooled one is simply
      // destroyed; a transaction's must survive (its work lives on it), so the rest of the result
      // is read and thrown away. MySQL has no way to close a result early on the same connection.
      if (!finished && !failure && this.held) {
        discard = true;
        ready.length = 0;
        batch = [];
        if (paused) conn.resume();
        while (!ended && !failure) await new Promise<void>((resolve) => (wake = resolve));
        finished = !failure;
      }
      // A statement the server refused leaves a held connection usable (only the statement failed).
      if (failure && this.held && !isConnectionLost(failure) && (failure as { fatal?: boolean }).fatal !== true) finished = true;
      conn.off('error', onConnGone);
      conn.off('end', onConnGone);
      if (!finished) conn.destroy();
      done();
    }
  }
}

/** A multi-row INSERT's or INSERT … SELECT's `info` ("Records: 3  Duplicates: 1  Warnings: 0"). */
function insertInfo(info: string | undefined): Pick<ExecResult, 'written'> {
  const m = info ? /Records:\s*(\d+)\s+Duplicates:\s*(\d+)/.exec(info) : null;
  return m ? { written: { records: Number(m[1]), duplicates: Number(m[2]) } } : {};
}

/**
 * Whether a pooled connection's socket keeps the process alive. An idle one must not: a script
 * ends when its work does (as pg's `allowExitOnIdle` does for PostgreSQL), instead of waiting on
 * a connection nobody will use again. A leased one must, so an awaited statement is never cut off.
 */
function keepProcessAlive(c: PoolConnection, on: boolean): PoolConnection {
  const socket = (c as unknown as { stream?: { ref?(): void; unref?(): void } }).stream;
  if (on) socket?.ref?.();
  else socket?.unref?.();
  return c;
}

function release(c: PoolConnection): void {
  keepProcessAlive(c, false).release();
}

export function createMysqlAdapter(opts: ConnectOptions): Adapter {
  const errors = mysqlErrors(opts);
  const pool: Pool = mysql.createPool({
    host: opts.host,
    port: opts.port,
    user: opts.user,
    password: opts.password,
    connectionLimit: opts.poolSize ?? 4,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: false,
    jsonStrings: true,
    dateStrings: ['DATE', 'DATETIME', 'TIMESTAMP'],
    multipleStatements: false,
    charset: 'utf8mb4',
    ssl: opts.useTls ? {} : undefined,
    enableKeepAlive: true,
    // Parameters are inlined by the dialect's literal: safe under any sql_mode (see format.ts).
    queryFormat: (sql: string, values: unknown) => formatQuery(sql, values as unknown[] | undefined),
  });
  // Every session works in UTC (CURRENT_TIMESTAMP and Date values agree), and without
  // NO_BACKSLASH_ESCAPES, which the dialect's DDL text (comments, defaults) assumes; values
  // are safe either way (see format.ts).
  pool.on('connection', (c) => {
    c.query("SET time_zone = '+00:00', sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
  });
  const acquireTimeout = opts.acquireTimeout ?? 30_000;
  const getConnection = () =>
    new Promise<PoolConnection>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        reject(new PoolTimeoutError(`No database connection became free within ${acquireTimeout} ms: all ${opts.poolSize ?? 4} pooled connections are in use (open transactions or streams). Increase database.pool_size or close what holds them.`));
      }, acquireTimeout);
      pool.getConnection((err, c) => {
        clearTimeout(timer);
        if (timedOut) return void (err ? undefined : release(c));
        if (err) reject(errors.translateError(err));
        else resolve(keepProcessAlive(c, true));
      });
    });
  const held = (c: PoolConnection): Lease => ({ conn: c, done: () => {} });
  const exec = (s: Session, sql: string) => s.execute(sql).then(() => undefined);
  const q = mysqlDialect.quoteId;
  return {
    backend: 'mysql',
    dialect: mysqlDialect,
    introspector: mysqlIntrospector,
    errors,
    pooled: () => new MysqlSession(async () => {
      const c = await getConnection();
      return { conn: c, done: () => release(c) };
    }, errors, 0),
    async withSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
      const c = await getConnection();
      try {
        return await fn(new MysqlSession(async () => held(c), errors, c.threadId ?? 0, true));
      } finally {
        release(c);
      }
    },
    begin: (s) => exec(s, 'START TRANSACTION WITH CONSISTENT SNAPSHOT'),
    commit: (s) => exec(s, 'COMMIT'),
    rollback: (s) => exec(s, 'ROLLBACK'),
    savepoint: (s, name) => exec(s, `SAVEPOINT ${q(name)}`),
    rollbackTo: (s, name) => exec(s, `ROLLBACK TO SAVEPOINT ${q(name)}`),
    release: (s, name) => exec(s, `RELEASE SAVEPOINT ${q(name)}`),
    close: () => new Promise<void>((resolve) => pool.end(() => resolve())),
  };
}

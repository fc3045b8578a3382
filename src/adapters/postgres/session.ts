/**
 * One PostgreSQL session on node-postgres: statements as objects or arrays, commands, and a
 * server-side cursor read in batches (pg-cursor). A session either borrows a pooled client per
 * statement or runs on the one client a transaction holds; `Lease` hides which.
 *
 * Every statement runs on the extended query protocol (parse, bind, execute), even one without
 * parameters, where node-postgres would otherwise use the simple protocol. The simple protocol
 * runs every `;`-separated statement of the text, so a `;` in a user's SQL fragment (an
 * orderBy, a restriction string, a proj or aggr expression) would run a second statement of
 * the user's choosing; the extended protocol refuses the text instead ("cannot insert multiple
 * commands into a prepared statement", SQLSTATE 42601 → QuerySyntaxError), as MariaDB refuses
 * it without multipleStatements. The cursor of `stream` is extended-protocol by construction.
 * Trusted DDL that needs several statements is issued as a list, one statement at a time.
 *
 * Streaming never hangs on a dead connection: a read that fails ends the iteration with the
 * translated error (LostConnectionError when the backend went away) and the client is
 * destroyed, not returned to the pool; closing a cursor after an early `break` is bounded by
 * the client's end and a timer.
 */
import Cursor from 'pg-cursor';
import type { PoolClient } from 'pg';
import type { ArrayResult, ErrorTranslator, ExecResult, FieldInfo, Row, Session, SqlValue, StreamOptions } from '../adapter.js';
import { isConnectionLost, refusedByServer } from './errors.js';
import { kindOfOid, toPgParams } from './values.js';
import { BATCH_BYTES, rowBytes } from '../row-bytes.js';

/** A client to run statements on, and how to give it back (`broken`: destroy it). */
export interface Lease {
  client: PoolClient;
  /** Whether the connection has failed (an 'error' event was seen). */
  broken(): boolean;
  done(broken: boolean): void;
}

type TypesConfig = { getTypeParser: (oid: number, format?: 'text' | 'binary') => (value: string) => unknown };

/** How long closing a cursor may take before the client is given up as broken. */
const CURSOR_CLOSE_TIMEOUT_MS = 5_000;

/** See the module comment: one statement per text, never several. */
const ONE_STATEMENT = { queryMode: 'extended' } as const;

function fieldsOf(fields: ReadonlyArray<{ name: string; dataTypeID: number }> | undefined): FieldInfo[] {
  return (fields ?? []).map((f) => ({ name: f.name, kind: kindOfOid(f.dataTypeID) }));
}

export class PgSession implements Session {
  /** Held sessions run one statement at a time (node-postgres deprecates overlapping queries on a client). */
  #tail: Promise<unknown> = Promise.resolve();
  /**
   * A held session's transaction is aborted from a statement the server refused until one
   * succeeds again (only ROLLBACK, ROLLBACK TO SAVEPOINT or COMMIT can, and each ends the
   * aborted state). Tracked here: the client's own status arrives after the error is reported.
   */
  #aborted = false;

  get transactionAborted(): boolean {
    return this.#aborted;
  }

  constructor(
    private readonly lease: () => Promise<Lease>,
    private readonly errors: ErrorTranslator,
    private readonly types: TypesConfig,
    readonly connectionId: number,
    private readonly serial = false,
  ) {}

  private run<T>(sql: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    if (!this.serial) return this.runNow(sql, fn);
    const next = this.#tail.then(() => this.runNow(sql, fn));
    this.#tail = next.catch(() => {});
    return next;
  }

  private async runNow<T>(sql: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const lease = await this.lease();
    let broken = false;
    try {
      const result = await fn(lease.client);
      if (this.serial) this.#aborted = false;
      return result;
    } catch (err) {
      broken = isConnectionLost(err);
      if (this.serial && refusedByServer(err)) this.#aborted = true;
      throw this.errors.translateError(err, sql);
    } finally {
      lease.done(broken || lease.broken());
    }
  }

  async query(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    const res = await this.run(sql, (c) => c.query({ ...ONE_STATEMENT, text: sql, values: toPgParams(params) }));
    return res.rows as Row[];
  }

  async queryArrays(sql: string, params?: readonly SqlValue[]): Promise<ArrayResult> {
    const res = await this.run(sql, (c) => c.query({ ...ONE_STATEMENT, text: sql, values: toPgParams(params), rowMode: 'array' }));
    return { rows: res.rows as unknown[][], fields: fieldsOf(res.fields) };
  }

  async execute(sql: string, params?: readonly SqlValue[]): Promise<ExecResult> {
    const res = await this.run(sql, (c) => c.query({ ...ONE_STATEMENT, text: sql, values: toPgParams(params) }));
    return { affectedRows: res.rowCount ?? 0 };
  }

  /** A statement's command tag: `COMMIT`, or `ROLLBACK` when a COMMIT found its transaction aborted. */
  async command(sql: string): Promise<string | null> {
    const res = await this.run(sql, (c) => c.query({ ...ONE_STATEMENT, text: sql }));
    return res.command ?? null;
  }

  async *stream(sql: string, params?: readonly SqlValue[], opts?: StreamOptions): AsyncIterable<ArrayResult> {
    const batchRows = Math.max(1, Math.trunc(opts?.batchRows ?? 1024));
    const batchBytes = opts?.batchBytes ?? BATCH_BYTES;
    // A cursor reads a number of rows, whatever their size. Batches of batchRows rows are made
    // of reads sized by the rows seen so far (the first read takes one row), so that a batch of
    // wide rows (blobs) ends at about batchBytes, and one of small rows has batchRows rows.
    let seenRows = 0;
    let seenBytes = 0;
    const lease = await this.lease();
    const cursor = lease.client.query(new Cursor(sql, toPgParams(params), { rowMode: 'array', types: this.types }));
    let failed = false;
    let finished = false;
    try {
      let yielded = false;
      let fields: FieldInfo[] = [];
      for (;;) {
        const batch: unknown[][] = [];
        let bytes = 0;
        let more = true;
        while (more && batch.length < batchRows && bytes < batchBytes) {
          const perRow = seenRows ? seenBytes / seenRows : batchBytes;
          const n = Math.max(1, Math.min(batchRows - batch.length, Math.floor((batchBytes - bytes) / Math.max(1, perRow))));
          let rows: unknown[][];
          try {
            ({ rows, fields } = await readBatch(cursor, n));
          } catch (err) {
            failed = true;
            if (this.serial && refusedByServer(err)) this.#aborted = true;
            throw this.errors.translateError(err, sql);
          }
          for (const r of rows) {
            const b = rowBytes(r);
            bytes += b;
            seenBytes += b;
            batch.push(r);
          }
          seenRows += rows.length;
          more = rows.length === n;
        }
        if (batch.length === 0) {
          // An empty result still tells the consumer its columns.
          if (!yielded) yield { rows: batch, fields };
          finished = true;
          return;
        }
        yielded = true;
        yield { rows: batch, fields }; // after the last rows, the next read finds the end
      }
    } finally {
      // After a failed read the connection is unusable (a lost backend, or an aborted
      // portal on a pooled client); after an early break the cursor must be closed first.
      const ok = failed || finished ? !failed : await closeCursor(cursor, lease.client);
      lease.done(!ok || lease.broken());
    }
  }
}

function readBatch(cursor: Cursor, n: number): Promise<{ rows: unknown[][]; fields: FieldInfo[] }> {
  return new Promise((resolve, reject) => {
    cursor.read(n, (err, rows, result) => (err ? reject(err) : resolve({ rows: rows as unknown[][], fields: fieldsOf(result?.fields) })));
  });
}

/** Close a cursor; false when the connection failed or did not answer in time. */
function closeCursor(cursor: Cursor, client: PoolClient): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (ok: boolean) => {
      clearTimeout(timer);
      client.removeListener('end', onEnd);
      client.removeListener('error', onEnd);
      resolve(ok);
    };
    const onEnd = () => settle(false);
    const timer = setTimeout(() => settle(false), CURSOR_CLOSE_TIMEOUT_MS);
    client.once('end', onEnd);
    client.once('error', onEnd);
    cursor.close().then(
      () => settle(true),
      () => settle(false),
    );
  });
}

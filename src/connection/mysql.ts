/**
 * MySQL 8 / MariaDB 10.11+ adapter on mysql2 (pooled).
 */
import mysql from 'mysql2';
import type { Pool, PoolConnection, RowDataPacket, ResultSetHeader, FieldPacket } from 'mysql2';
import {
  AccessError,
  DataJointError,
  DuplicateError,
  IntegrityError,
  LostConnectionError,
  MissingAttributeError,
  MissingTableError,
  QuerySyntaxError,
  UnknownAttributeError,
} from '../errors.js';
import type {
  Adapter,
  ColumnInfo,
  ConnectOptions,
  Dialect,
  ExecResult,
  ForeignKeyInfo,
  IndexInfo,
  Row,
  Session,
  SqlValue,
  TableInfo,
} from './adapter.js';
import { utcDatetimeText } from './datetime.js';


export const mysqlDialect: Dialect = {
  name: 'mysql',
  quoteId(name: string): string {
    return '`' + name.replace(/`/g, '``') + '`';
  },
  fullName(database: string, table: string): string {
    return `${this.quoteId(database)}.${this.quoteId(table)}`;
  },
  literal(value: SqlValue): string {
    if (value === null || value === undefined) return 'NULL';
    switch (typeof value) {
      case 'number':
        if (!Number.isFinite(value)) return 'NULL';
        return String(value);
      case 'bigint':
        return value.toString();
      case 'boolean':
        return value ? '1' : '0';
      case 'string':
        return mysql.escape(value);
    }
    if (value instanceof Date) return `'${utcDatetimeText(value)}'`;
    if (value instanceof Uint8Array) return value.length === 0 ? "''" : `X'${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}'`;
    throw new DataJointError(`Cannot express ${String(value)} as an SQL literal`);
  },
  insertStatement(table, columns, policy, primaryKey) {
    const cols = columns.map((c) => this.quoteId(c)).join(',');
    if (policy === 'skip') {
      // INSERT IGNORE would also swallow FK and NULL errors; a no-op update only skips duplicates.
      const k = this.quoteId(primaryKey[0] ?? columns[0]!);
      return { head: `INSERT INTO ${table} (${cols}) VALUES `, tail: ` ON DUPLICATE KEY UPDATE ${k}=${k}` };
    }
    if (policy === 'replace') return { head: `REPLACE INTO ${table} (${cols}) VALUES `, tail: '' };
    return { head: `INSERT INTO ${table} (${cols}) VALUES `, tail: '' };
  },
  createTableSuffix(comment: string): string {
    return ` ENGINE=InnoDB COMMENT=${mysql.escape(comment)}`;
  },
  columnComment(comment: string): string {
    return ` COMMENT ${mysql.escape(comment)}`;
  },
  limitClause(limit: number | null, offset: number): string {
    if (limit === null) return offset ? ` LIMIT 18446744073709551615 OFFSET ${offset}` : '';
    return offset ? ` LIMIT ${limit} OFFSET ${offset}` : ` LIMIT ${limit}`;
  },
};

const LOST_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_CLIENT_INTERACTION_TIMEOUT',
]);

interface DriverError {
  code?: string;
  errno?: number;
  sqlMessage?: string;
  message?: string;
  fatal?: boolean;
}

class MysqlSession implements Session {
  constructor(
    private readonly getConn: () => Promise<{ conn: PoolConnection; done: () => void }>,
    private readonly adapter: MysqlAdapter,
    readonly connectionId: number,
  ) {}

  private async run<T>(fn: (c: PoolConnection) => Promise<T>, sql: string): Promise<T> {
    const { conn, done } = await this.getConn();
    try {
      return await fn(conn);
    } catch (err) {
      throw this.adapter.translateError(err, sql);
    } finally {
      done();
    }
  }

  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.run(
      (c) =>
        new Promise<Row[]>((resolve, reject) => {
          c.query<RowDataPacket[]>({ sql, values: params as unknown[] | undefined }, (err, rows) => (err ? reject(err) : resolve(rows as Row[])));
        }),
      sql,
    );
  }

  queryArrays(sql: string, params?: readonly SqlValue[]): Promise<{ rows: unknown[][]; columns: string[] }> {
    type Result = { rows: unknown[][]; columns: string[]; fields: Array<{ name: string; columnType: number; characterSet: number }> };
    return this.run(
      (c) =>
        new Promise<Result>((resolve, reject) => {
          c.query<RowDataPacket[][]>({ sql, values: params as unknown[] | undefined, rowsAsArray: true }, (err, rows, fields: FieldPacket[]) =>
            err
              ? reject(err)
              : resolve({
                  rows: rows as unknown[][],
                  columns: (fields ?? []).map((f) => f.name),
                  // Driver column types let fetch decode computed attributes (e.g. max(date)).
                  fields: (fields ?? []).map((f) => ({ name: f.name, columnType: f.columnType ?? 0, characterSet: f.characterSet ?? 0 })),
                }),
          );
        }),
      sql,
    );
  }

  execute(sql: string, params?: readonly SqlValue[]): Promise<ExecResult> {
    return this.run(
      (c) =>
        new Promise<ExecResult>((resolve, reject) => {
          c.query<ResultSetHeader>({ sql, values: params as unknown[] | undefined }, (err, res) =>
            err ? reject(err) : resolve({ affectedRows: res.affectedRows, insertId: res.insertId }),
          );
        }),
      sql,
    );
  }

  async *stream(sql: string, params?: readonly SqlValue[]): AsyncIterable<Row> {
    const { conn, done } = await this.getConn();
    // Fetch passes stream options on the params array under a registered symbol: rows as
    // arrays (no per-row objects for column builders) and the driver's field descriptions.
    const opts = (params as { [k: symbol]: unknown } | undefined)?.[Symbol.for('datajoint.streamOptions')] as
      | { rowsAsArray?: boolean; highWaterMark?: number; fields?: Array<{ name: string; columnType: number; characterSet: number }> }
      | undefined;
    // The text protocol sends rows as the server produces them; the stream pauses the socket
    // when the consumer falls behind, so memory stays bounded by the high-water mark.
    const q = conn.query({ sql, values: params?.length ? [...params] : undefined, rowsAsArray: opts?.rowsAsArray ?? false });
    if (opts) q.on('fields', (fields: FieldPacket[]) => {
      opts.fields = (fields ?? []).map((f) => ({ name: f.name, columnType: f.columnType ?? 0, characterSet: f.characterSet ?? 0 }));
    });
    const s = q.stream({ highWaterMark: opts?.highWaterMark ?? 1024 });
    let finished = false;
    try {
      for await (const row of s) yield row as Row;
      finished = true;
    } catch (err) {
      throw this.adapter.translateError(err, sql);
    } finally {
      if (!finished) {
        // Abandoned mid-stream: the connection still has unread rows, so it cannot be reused.
        s.destroy();
        conn.destroy();
      }
      done();
    }
  }
}

export class MysqlAdapter implements Adapter {
  readonly dialect = mysqlDialect;
  readonly pool: Pool;

  constructor(opts: ConnectOptions) {
    this.pool = mysql.createPool({
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
    });
    // Every session works in UTC so CURRENT_TIMESTAMP and Date values agree.
    this.pool.on('connection', (c) => {
      c.query("SET time_zone = '+00:00'");
    });
  }

  private getConnection(): Promise<PoolConnection> {
    return new Promise((resolve, reject) => this.pool.getConnection((err, c) => (err ? reject(this.translateError(err)) : resolve(c))));
  }

  pooled(): Session {
    return new MysqlSession(
      async () => {
        const c = await this.getConnection();
        return { conn: c, done: () => c.release() };
      },
      this,
      0,
    );
  }

  async withSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    const c = await this.getConnection();
    const session = new MysqlSession(async () => ({ conn: c, done: () => {} }), this, c.threadId ?? 0);
    try {
      return await fn(session);
    } finally {
      c.release();
    }
  }

  async begin(s: Session): Promise<void> {
    await s.execute('START TRANSACTION WITH CONSISTENT SNAPSHOT');
  }
  async commit(s: Session): Promise<void> {
    await s.execute('COMMIT');
  }
  async rollback(s: Session): Promise<void> {
    await s.execute('ROLLBACK');
  }
  async savepoint(s: Session, name: string): Promise<void> {
    await s.execute(`SAVEPOINT ${this.dialect.quoteId(name)}`);
  }
  async rollbackTo(s: Session, name: string): Promise<void> {
    await s.execute(`ROLLBACK TO SAVEPOINT ${this.dialect.quoteId(name)}`);
  }
  async release(s: Session, name: string): Promise<void> {
    await s.execute(`RELEASE SAVEPOINT ${this.dialect.quoteId(name)}`);
  }

  async createDatabase(name: string): Promise<void> {
    await this.pooled().execute(`CREATE DATABASE IF NOT EXISTS ${this.dialect.quoteId(name)}`);
  }
  async dropDatabase(name: string): Promise<void> {
    await this.pooled().execute(`DROP DATABASE IF EXISTS ${this.dialect.quoteId(name)}`);
  }
  async listDatabases(): Promise<string[]> {
    const rows = await this.pooled().query('SELECT schema_name AS name FROM information_schema.schemata');
    const system = new Set(['information_schema', 'mysql', 'performance_schema', 'sys']);
    return rows.map((r) => String(r.name)).filter((n) => !system.has(n));
  }
  async databaseExists(name: string): Promise<boolean> {
    const rows = await this.pooled().query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [name]);
    return rows.length > 0;
  }
  async listTables(database: string): Promise<TableInfo[]> {
    const rows = await this.pooled().query(
      "SELECT table_name AS name, table_comment AS comment FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
      [database],
    );
    return rows.map((r) => ({ name: String(r.name), comment: String(r.comment ?? '') }));
  }
  async columns(database: string, table: string): Promise<ColumnInfo[]> {
    const rows = await this.pooled().query(
      `SELECT column_name AS name, column_type AS ctype, is_nullable AS nullable, column_default AS dflt,
              column_comment AS cmt, column_key AS ckey, extra AS extra
         FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`,
      [database, table],
    );
    const pk = new Set(
      (await this.pooled().query(
        "SELECT column_name AS name FROM information_schema.key_column_usage WHERE table_schema = ? AND table_name = ? AND constraint_name = 'PRIMARY'",
        [database, table],
      )).map((r) => String(r.name)),
    );
    return rows.map((r) => ({
      name: String(r.name),
      columnType: String(r.ctype).toLowerCase(),
      nullable: r.nullable === 'YES',
      default: normalizeDefault(r.dflt as string | null, r.nullable === 'YES'),
      comment: String(r.cmt ?? ''),
      inKey: pk.has(String(r.name)),
      autoIncrement: /auto_increment/i.test(String(r.extra ?? '')),
    }));
  }
  async foreignKeys(database: string, table?: string): Promise<ForeignKeyInfo[]> {
    const rows = await this.pooled().query(
      `SELECT constraint_name AS name, table_schema AS cdb, table_name AS ctab, column_name AS ccol,
              referenced_table_schema AS pdb, referenced_table_name AS ptab, referenced_column_name AS pcol
         FROM information_schema.key_column_usage
        WHERE table_schema = ? ${table ? 'AND table_name = ?' : ''} AND referenced_table_name IS NOT NULL
        ORDER BY table_name, constraint_name, ordinal_position`,
      table ? [database, table] : [database],
    );
    return groupKeys(rows);
  }
  async referencingKeys(database: string, table: string): Promise<ForeignKeyInfo[]> {
    const rows = await this.pooled().query(
      `SELECT constraint_name AS name, table_schema AS cdb, table_name AS ctab, column_name AS ccol,
              referenced_table_schema AS pdb, referenced_table_name AS ptab, referenced_column_name AS pcol
         FROM information_schema.key_column_usage
        WHERE referenced_table_schema = ? AND referenced_table_name = ?
        ORDER BY table_schema, table_name, constraint_name, ordinal_position`,
      [database, table],
    );
    return groupKeys(rows);
  }
  async indexes(database: string, table: string): Promise<IndexInfo[]> {
    const rows = await this.pooled().query(
      `SELECT index_name AS name, non_unique AS nu, column_name AS col, expression AS expr
         FROM information_schema.statistics WHERE table_schema = ? AND table_name = ?
        ORDER BY index_name, seq_in_index`,
      [database, table],
    ).catch(async () =>
      // MariaDB has no `expression` column in statistics.
      this.pooled().query(
        `SELECT index_name AS name, non_unique AS nu, column_name AS col
           FROM information_schema.statistics WHERE table_schema = ? AND table_name = ?
          ORDER BY index_name, seq_in_index`,
        [database, table],
      ),
    );
    const out = new Map<string, IndexInfo>();
    for (const r of rows) {
      const name = String(r.name);
      if (!out.has(name)) out.set(name, { name, unique: Number(r.nu) === 0, columns: [] });
      out.get(name)!.columns.push(r.col != null ? String(r.col) : `(${String(r.expr)})`);
    }
    return [...out.values()];
  }

  isConnectionLost(err: unknown): boolean {
    const e = err as DriverError & { cause?: unknown };
    if (err instanceof LostConnectionError) return true;
    if (e?.cause && e.cause !== err && this.isConnectionLost(e.cause)) return true;
    return !!e && ((e.code !== undefined && LOST_CODES.has(e.code)) || e.errno === 2006 || e.errno === 2013 || (e.fatal === true && !e.sqlMessage));
  }

  isDeadlock(err: unknown): boolean {
    const e = err as DriverError & { cause?: unknown };
    if (e?.errno === 1213) return true;
    return !!e?.cause && e.cause !== err && this.isDeadlock(e.cause);
  }

  translateError(err: unknown, sql?: string): Error {
    if (err instanceof DataJointError) return err;
    const e = err as DriverError;
    if (!e || typeof e !== 'object') return new DataJointError(String(err));
    const msg = e.sqlMessage ?? e.message ?? String(err);
    const where = sql ? `\nSQL: ${sql.length > 500 ? sql.slice(0, 500) + '…' : sql}` : '';
    const opts = { cause: err };
    if (this.isConnectionLost(err)) return new LostConnectionError(`Lost connection to the database server: ${msg}`, opts);
    switch (e.errno) {
      case 1062:
        return new DuplicateError(`Duplicate entry: ${msg}`, opts);
      case 1451:
      case 1452:
      case 1216:
      case 1217:
        return new IntegrityError(`Foreign key constraint violated: ${msg}`, opts);
      case 1048:
      case 1364:
        return new MissingAttributeError(msg, opts);
      case 1054:
        return new UnknownAttributeError(msg + where, opts);
      case 1146:
      case 1049:
        return new MissingTableError(msg, opts);
      case 1044:
      case 1045:
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
        return new QuerySyntaxError(msg + where, opts);
      case 1406:
      case 1264:
      case 1265:
      case 1292:
      case 1366:
      case 3140:
      case 4025:
        return new IntegrityError(`Invalid value: ${msg}`, opts);
    }
    return new DataJointError(msg + where, opts);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.pool.end(() => resolve()));
  }
}

function groupKeys(rows: Row[]): ForeignKeyInfo[] {
  const out = new Map<string, ForeignKeyInfo>();
  for (const r of rows) {
    const id = `${r.cdb}.${r.ctab}.${r.name}`;
    if (!out.has(id))
      out.set(id, {
        name: String(r.name),
        childDatabase: String(r.cdb),
        childTable: String(r.ctab),
        parentDatabase: String(r.pdb),
        parentTable: String(r.ptab),
        attrMap: [],
      });
    out.get(id)!.attrMap.push([String(r.ccol), String(r.pcol)]);
  }
  return [...out.values()];
}

/**
 * information_schema reports defaults differently on MySQL (raw value) and MariaDB (SQL literal,
 * 'NULL' for nullable columns without default). Normalize to an SQL literal or null.
 */
function normalizeDefault(raw: string | null, nullable: boolean): string | null {
  if (raw === null) return null;
  if (raw === 'NULL') return nullable ? null : 'NULL';
  if (/^current_timestamp(\(\d*\))?$/i.test(raw)) return 'CURRENT_TIMESTAMP';
  if (/^'.*'$/s.test(raw) || /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(raw)) return raw;
  return mysql.escape(raw);
}

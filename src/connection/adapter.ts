/**
 * One adapter per SQL dialect behind this interface; the core (declare, heading, query, table)
 * talks only to it. A PostgreSQL adapter plugs in here without touching the core.
 */
export type SqlValue = string | number | bigint | boolean | null | Date | Buffer | Uint8Array;
export type Row = Record<string, unknown>;

export interface ExecResult {
  affectedRows: number;
  insertId?: number | bigint;
}

/** A physical database session: a pooled connection, or the one a transaction holds. */
export interface Session {
  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  queryArrays(sql: string, params?: readonly SqlValue[]): Promise<{ rows: unknown[][]; columns: string[] }>;
  execute(sql: string, params?: readonly SqlValue[]): Promise<ExecResult>;
  /** Rows from one server-side cursor, read as the consumer pulls them. */
  stream(sql: string, params?: readonly SqlValue[]): AsyncIterable<Row>;
  /** Server-assigned connection id (for the jobs table). */
  readonly connectionId: number;
}

/** Column description read back from the catalog, dialect-neutral. */
export interface ColumnInfo {
  name: string;
  /** Full SQL column type as the server reports it, lower case: `int unsigned`, `varchar(32)`, `enum('a','b')`. */
  columnType: string;
  nullable: boolean;
  /** Default as an SQL literal/expression text, or null when none. */
  default: string | null;
  comment: string;
  inKey: boolean;
  autoIncrement: boolean;
}

export interface ForeignKeyInfo {
  name: string;
  childDatabase: string;
  childTable: string;
  parentDatabase: string;
  parentTable: string;
  /** Child column → referenced parent column, in key order. */
  attrMap: Array<[child: string, parent: string]>;
}

export interface IndexInfo {
  name: string;
  unique: boolean;
  columns: string[];
}

export interface TableInfo {
  name: string;
  comment: string;
}

/** Pure SQL-text knowledge of a dialect (no I/O). */
export interface Dialect {
  readonly name: 'mysql' | 'postgresql';
  quoteId(name: string): string;
  /** `db`.`table` */
  fullName(database: string, table: string): string;
  /** Literal for a value that must be inlined into SQL text (multi-row inserts, restrictions). */
  literal(value: SqlValue): string;
  /** INSERT prefix for the given duplicate policy. */
  insertStatement(table: string, columns: string[], policy: 'error' | 'skip' | 'replace', primaryKey: string[]): { head: string; tail: string };
  /** ENGINE clause etc. appended to CREATE TABLE. */
  createTableSuffix(comment: string): string;
  /** Column-level COMMENT clause (MySQL) — other dialects emit separate statements. */
  columnComment(comment: string): string;
  /** Expression limiting/offsetting rows. */
  limitClause(limit: number | null, offset: number): string;
}

/** Catalog and server I/O that differs between dialects. */
export interface Adapter {
  readonly dialect: Dialect;
  /** Run `fn` on one physical session (held for the duration). */
  withSession<T>(fn: (s: Session) => Promise<T>): Promise<T>;
  /** A session for a single statement (taken from the pool and given back). */
  pooled(): Session;
  begin(s: Session): Promise<void>;
  commit(s: Session): Promise<void>;
  rollback(s: Session): Promise<void>;
  savepoint(s: Session, name: string): Promise<void>;
  rollbackTo(s: Session, name: string): Promise<void>;
  release(s: Session, name: string): Promise<void>;
  createDatabase(name: string): Promise<void>;
  dropDatabase(name: string): Promise<void>;
  listDatabases(): Promise<string[]>;
  databaseExists(name: string): Promise<boolean>;
  listTables(database: string): Promise<TableInfo[]>;
  columns(database: string, table: string): Promise<ColumnInfo[]>;
  foreignKeys(database: string, table?: string): Promise<ForeignKeyInfo[]>;
  /** Foreign keys in any database that reference the given table. */
  referencingKeys(database: string, table: string): Promise<ForeignKeyInfo[]>;
  indexes(database: string, table: string): Promise<IndexInfo[]>;
  /** Turn a driver error into a DataJointError subclass (returns the input if unknown). */
  translateError(err: unknown, sql?: string): Error;
  /** Whether the error means the connection is gone (safe to retry outside a transaction). */
  isConnectionLost(err: unknown): boolean;
  /** Whether the server chose this transaction as a deadlock victim and rolled it back whole. */
  isDeadlock(err: unknown): boolean;
  close(): Promise<void>;
}

export interface ConnectOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database?: string;
  poolSize?: number;
  useTls?: boolean;
}

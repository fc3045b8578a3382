/**
 * The contract between DataJoint's core and a database backend. The core (declare, heading,
 * expression, fetch, table, schema, populate) writes no dialect SQL of its own: everything a
 * backend does differently lives in one folder per backend under `src/adapters/<db>/`, in the
 * spirit of kysely's `src/dialect/<db>/`:
 *
 * - `Dialect`: pure SQL text (quoting, literals, placeholders, types both ways, DDL). No I/O,
 *   no driver import, so it can be loaded eagerly and used synchronously (table names).
 * - `Driver`: sessions, the pool, transactions, streaming cursors, killing a session.
 * - `Introspector`: the catalog, read back into neutral `ColumnInfo`/`ForeignKeyInfo`/… records.
 * - error translation into the `dj.errors` classes.
 *
 * `Adapter` is all of it for one connection; `registry.ts` creates one lazily per backend.
 */
import type { ValueKind } from '../heading/kinds.js';

export type BackendName = 'mysql' | 'postgresql' | 'embedded';
export type DialectName = 'mysql' | 'postgresql';

/** A value the core hands to a driver, as a bound parameter or an inlined literal. */
export type SqlValue = string | number | bigint | boolean | null | Date | Buffer | Uint8Array;
export type Row = Record<string, unknown>;

export interface ExecResult {
  affectedRows: number;
  insertId?: number | bigint;
  /**
   * Rows written by an INSERT, where the server's count of affected rows says something else
   * (MySQL counts a row updated by ON DUPLICATE KEY UPDATE twice, and one left as it was once):
   * for a multi-row INSERT or INSERT … SELECT on MySQL, its `Records` less its `Duplicates` when
   * duplicates were skipped, or `Records` when they were replaced. Absent elsewhere.
   */
  written?: { records: number; duplicates: number };
}

/** What decoding needs to know about one result column. */
export interface FieldInfo {
  name: string;
  /**
   * The value kind the driver reports for the column (used for computed attributes, whose
   * DataJoint type is unknown: `max(d)`, `count(*)`), or null when the driver cannot tell.
   */
  kind: ValueKind | null;
}

/** Rows as arrays in select-list order, with their column descriptions. */
export interface ArrayResult {
  rows: unknown[][];
  fields: FieldInfo[];
}

export interface StreamOptions {
  /** Rows per batch handed to the consumer (default 1024). Also bounds client memory. */
  batchRows?: number;
  /** Bytes per batch at most (default 16 MiB, row-bytes.ts): a batch of wide rows ends early. */
  batchBytes?: number;
}

/** A physical database session: a pooled connection per statement, or the one a transaction holds. */
export interface Session {
  /** Rows as objects keyed by column name. `params` bind the dialect's placeholders. */
  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Rows as arrays, with field kinds. */
  queryArrays(sql: string, params?: readonly SqlValue[]): Promise<ArrayResult>;
  /** A statement without result rows (INSERT, UPDATE, DELETE, DDL). */
  execute(sql: string, params?: readonly SqlValue[]): Promise<ExecResult>;
  /**
   * Rows of one server-side cursor, in batches, read as the consumer pulls them, so client
   * memory stays bounded. Breaking out of the loop releases the cursor. A connection lost
   * midway ends the iteration with `LostConnectionError` (never a hang).
   */
  stream(sql: string, params?: readonly SqlValue[], opts?: StreamOptions): AsyncIterable<ArrayResult>;
  /** Server-assigned id of the physical connection (0 for a per-statement pooled session). */
  readonly connectionId: number;
  /**
   * Whether the server has aborted this session's transaction at a failed statement and
   * ignores everything but a rollback until then (PostgreSQL). Always false where a failed
   * statement undoes only itself (MySQL) and on per-statement pooled sessions.
   */
  readonly transactionAborted: boolean;
}

/** A column read back from the catalog, in dialect-neutral form. */
export interface ColumnInfo {
  name: string;
  /**
   * The column's SQL type as the server reports it, lower case, without casts or schema
   * qualification of built-in types: `int unsigned`, `varchar(32)`, `smallint`, `timestamp(3)`,
   * `character varying(32)`, `enum('a','b')` (MySQL) or the enum type's name (PostgreSQL).
   */
  columnType: string;
  nullable: boolean;
  /**
   * Default value as DataJoint definition text, or null when there is none: numbers as
   * written (`5`, `-1.5`), strings single-quoted with `'` doubled (`'it''s'`), `CURRENT_TIMESTAMP`
   * (any precision), `NULL` only for a NOT NULL column whose default is NULL. Server-specific
   * decoration (PostgreSQL casts `'x'::text`, MariaDB's quoting) is removed.
   */
  default: string | null;
  /** The column comment as stored (DataJoint writes `:core type:user comment`). */
  comment: string;
  inKey: boolean;
  autoIncrement: boolean;
  /** Values of an enum column in declared order (needed where the type name does not carry them). */
  enumValues?: string[];
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
  /** The primary key's index. */
  primary: boolean;
  /** Column names in index order; an expression part as `(expr)`. */
  columns: string[];
}

export interface TableInfo {
  name: string;
  comment: string;
}

/**
 * A core type resolved for storage: the dialect maps it to its SQL type. `type` is the
 * DataJoint type (`int32`, `uint8`, `varchar(32)`, `datetime(3)`, `decimal(10,2)`,
 * `enum('a','b')`, `bool`, `uuid`, `json`, `bytes`, `date`, `float32`, `float64`) or, for
 * native passthrough types (`core: false`), the native SQL text as written.
 */
export interface StorageType {
  type: string;
  kind: ValueKind;
  core: boolean;
  enumValues?: string[];
}

/** One column of a table to create. */
export interface ColumnSpec {
  name: string;
  type: StorageType;
  nullable: boolean;
  /**
   * Default as definition text (see ColumnInfo.default): `5`, `'text'` (quotes doubled),
   * `CURRENT_TIMESTAMP`/`CURRENT_TIMESTAMP(3)`, `TRUE`/`FALSE`; null for none (for a nullable
   * column: NULL). A nullable column may have another default (DataJoint Python's job metadata
   * `_job_version varchar(64) DEFAULT ''`). The dialect renders it (booleans as 1/0 on MySQL,
   * TRUE/FALSE on PostgreSQL).
   */
  default: string | null;
  /** Full comment text to store: `:int32:user comment` for core types. */
  comment: string;
  autoIncrement: boolean;
}

export interface ForeignKeySpec {
  columns: string[];
  refDatabase: string;
  refTable: string;
  refColumns: string[];
}

export interface IndexSpec {
  /** Column names, or an SQL expression in parentheses `(lower(name))`. */
  columns: string[];
  unique: boolean;
}

/** Everything `CREATE TABLE` needs, in neutral form (compiled from a definition). */
export interface TableSpec {
  database: string;
  name: string;
  comment: string;
  columns: ColumnSpec[];
  primaryKey: string[];
  /** Foreign keys, all `ON UPDATE CASCADE ON DELETE RESTRICT`. */
  foreignKeys: ForeignKeySpec[];
  /** Secondary indexes (`unique index(...)`, `index(...)`, `-> [unique] P`). */
  indexes: IndexSpec[];
}

/**
 * One change of `ALTER TABLE` (table.alter(): secondary attributes and the table comment).
 * `modify` changes a column's type, nullability, default and comment, renaming it when `from`
 * differs from `column.name`. `after` places an added column (MySQL; PostgreSQL appends).
 */
export type AlterChange =
  | { kind: 'add'; column: ColumnSpec; after: string | null }
  | { kind: 'drop'; name: string }
  | { kind: 'modify'; from: string; column: ColumnSpec }
  | { kind: 'comment'; comment: string };

export type DuplicatePolicy = 'error' | 'skip' | 'replace';

/** A column compared with a list of value rows: its SQL, and its value kind (null: unknown, a computed value). */
export interface RowsColumn {
  sql: string;
  kind: ValueKind | null;
}

/** What differs between backends in behaviour, not just spelling. */
export interface Capabilities {
  /** DDL runs inside a transaction and rolls back with it (PostgreSQL); MySQL commits implicitly. */
  readonly transactionalDdl: boolean;
  /** HAVING may name select-list aliases (MySQL); otherwise restrict a derived table instead. */
  readonly havingAliases: boolean;
  /** `skipDuplicates` also skips rows that collide on a secondary unique index (MySQL). */
  readonly skipCoversUniqueIndexes: boolean;
  /** Longest identifier the server keeps (64 MySQL, 63 PostgreSQL); longer names are refused. */
  readonly maxIdentifierLength: number;
  /** An error inside a transaction aborts it until ROLLBACK (PostgreSQL): recoverable steps need savepoints. */
  readonly errorsAbortTransaction: boolean;
  /** Native unsigned integer types (MySQL); otherwise the next wider signed type with a range check. */
  readonly unsignedTypes: boolean;
  /**
   * The reads of a write statement lock what they read (InnoDB at REPEATABLE READ: the SELECT of
   * an INSERT … SELECT, and every row an UPDATE or DELETE scans); PostgreSQL reads a snapshot
   * there and locks only the rows it writes.
   */
  readonly lockingReadsInWrites: boolean;
  /** ALTER TABLE can add a column after a given one (MySQL); PostgreSQL only appends it. */
  readonly placesAddedColumns: boolean;
}

/**
 * Another backend's native type in a definition: declared as `declareAs` (a core type, or a
 * native type of this dialect, holding the same values), or refused for the given reason.
 */
export type ForeignNativeType = { declareAs: string } | { refused: string };

/** Pure SQL-text knowledge of one dialect. No I/O. */
export interface Dialect {
  readonly name: DialectName;
  readonly capabilities: Capabilities;

  // ---- names and values ----
  /** Quote an identifier: `` `a` `` (MySQL), `"a"` (PostgreSQL). */
  quoteId(name: string): string;
  /** Schema-qualified table name: `` `db`.`table` `` / `"db"."table"`. */
  fullName(database: string, table: string): string;
  /**
   * A value inlined into SQL text (restrictions, defaults). Safe under any server setting:
   * strings never rely on backslash escapes being on or off. Booleans as the dialect stores
   * them; Buffers as binary literals; Dates as UTC datetime text.
   */
  literal(value: SqlValue): string;
  /** The placeholder for the i-th bound parameter (1-based): `?` (MySQL) or `$1` (PostgreSQL). */
  param(index: number): string;
  /** The value a bound parameter of the given kind must carry (e.g. a uuid string → 16 bytes on MySQL). */
  bindValue(kind: ValueKind, value: SqlValue): SqlValue;

  // ---- clauses and expressions ----
  /** ` LIMIT n OFFSET m` (leading space), '' for no limit and no offset. */
  limitClause(limit: number | null, offset: number): string;
  /** The server's current time (UTC) with the given fractional digits: `NOW(6)`, `LOCALTIMESTAMP(6)`. */
  now(precision?: number): string;
  /**
   * The current time on the server's own clock, as a zoneless timestamp: what CURRENT_TIMESTAMP
   * gives a session that sets no time zone (this library's sessions run in UTC). DataJoint
   * Python's sessions set none, and its jobs tables keep their times so: a worker sharing
   * them must read and write the same clock, or a job scheduled by one looks due hours later,
   * or orphaned hours early, to the other on a server that does not run in UTC.
   */
  serverNow(precision: number): string;
  /**
   * SQL a user wrote (a restriction string, a computed attribute) as this server runs it:
   * PostgreSQL rewrites the MySQL functions DataJoint Python's PostgreSQL adapter rewrites
   * (`YEAR(d)`, `GROUP_CONCAT(x)`, `CURDATE()`, `SUM(a = b)`…), and aggregates of the boolean
   * attributes named in `booleans` (`SUM(correct)`: MySQL's booleans are integers); MySQL runs
   * it as written.
   */
  userSql(sql: string, booleans?: ReadonlySet<string>): string;
  /** `expr` shifted by a number of seconds (may be negative or fractional). */
  addSeconds(expr: string, seconds: number): string;
  /** The current database user: `CURRENT_USER()` / `current_user`. */
  readonly currentUser: string;
  /** The current session's server id: `CONNECTION_ID()` / `pg_backend_pid()`. */
  readonly connectionIdExpr: string;
  /** Statement that ends another session (it rolls back): `KILL 12` / `SELECT pg_terminate_backend(12)`. */
  killSession(connectionId: number): string;
  /** Alias of a derived table (both need one): ` AS "x"`. */
  derivedAlias(alias: string): string;
  /**
   * What follows a nullable column in ORDER BY so that NULLs sort as the smallest values, as
   * MySQL sorts them (first ascending, last descending): '' there, ` NULLS FIRST` / ` NULLS LAST`
   * on PostgreSQL, whose NULLs sort as the largest.
   */
  nullsSmallest(descending: boolean): string;
  /**
   * What a SELECT list fetches for a column (quoted) of the given type: the column, or an
   * expression giving its full value. MySQL's text protocol prints FLOAT with six significant
   * digits (123456.789 read as 123457), so a 4-byte float is widened to DOUBLE there, exactly.
   */
  fetchColumn(column: string, type: string): string;
  /**
   * The value at a JSON path (object keys and array indexes) of a json column, as text or cast
   * to `type`: `float`, `double`, `decimal(p,s)`, `signed`, `unsigned`, `int`, `char(n)`,
   * `varchar(n)`, `date`, `datetime`, `time`, the core numeric types, `bool`, or `number`
   * (compared as a number). Throws DataJointError for other types.
   */
  jsonValue(column: string, path: ReadonlyArray<string | number>, type: string | null): string;
  /** Whether a JSON path of a json column is missing or holds JSON null (an object or an array there is a value). */
  jsonIsNull(column: string, path: ReadonlyArray<string | number>): string;
  /**
   * Rows whose `columns` equal one of `rows` (SQL literals, one per column, none NULL), in a
   * form the server handles at any number of rows; null where the portable forms
   * (`(a,b) IN ((1,2),…)`, an OR of equalities) serve as well (few rows, one column, or a
   * column of unknown type).
   */
  manyRowsIn(columns: readonly RowsColumn[], rows: ReadonlyArray<readonly string[]>): string | null;

  // ---- data changes ----
  /**
   * An INSERT of `columns` with the given duplicate policy: `head` runs up to `VALUES `, `tail`
   * follows the value tuples (or a SELECT). skip: the row whose primary key exists is left
   * as is (not `INSERT IGNORE`, which would hide other errors). replace: that row is updated in
   * place to be exactly the given row, its columns outside `columns` (of `allColumns`, every
   * stored column; default `columns`) set to their defaults; rows of dependent tables stay. A
   * row that collides on a secondary unique index with a row of another primary key is a
   * DuplicateError under every policy but skip.
   */
  insert(
    table: string,
    columns: readonly string[],
    policy: DuplicatePolicy,
    primaryKey: readonly string[],
    allColumns?: readonly string[],
  ): { head: string; tail: string };
  /** Insert one row of defaults only: `INSERT INTO t () VALUES ()` / `INSERT INTO t DEFAULT VALUES`. */
  insertDefaults(table: string): string;
  /**
   * After rows given their own auto-increment value: the statement that moves the column's
   * counter past the largest value stored, so the next automatic one is free (MySQL does this
   * itself: null; a PostgreSQL identity's sequence does not move).
   */
  afterExplicitAutoIncrement(database: string, table: string, column: string): string | null;

  // ---- types ----
  /**
   * SQL column type that stores a resolved type (core types mapped; native passed through).
   * `database` qualifies types that live in a schema (PostgreSQL enum types).
   */
  sqlType(type: StorageType, database: string): string;
  /**
   * A native (non-core) SQL type of this dialect accepted as a passthrough attribute type
   * (`tinyint unsigned`, `text`, `timestamp`…), with how its values convert; null if unknown.
   */
  nativeType(text: string): { kind: ValueKind; unsigned: boolean } | null;
  /**
   * How this dialect declares another backend's native type written in a definition (MySQL's
   * `tinyint unsigned` on PostgreSQL), or null when the text is no such type. Asked only for
   * text that is neither a core type nor one of this dialect's native types.
   */
  foreignNativeType(text: string): ForeignNativeType | null;
  /**
   * The DataJoint type of a catalog column that carries no `:type:` comment (declared by
   * another client), or null when no core type maps to it.
   */
  coreTypeOf(column: ColumnInfo): string | null;

  // ---- DDL ----
  /** Statements that create a DataJoint schema (MySQL database, PostgreSQL schema) if missing. */
  createDatabase(name: string): string[];
  /** Statements that drop a DataJoint schema with everything in it, if it exists. */
  dropDatabase(name: string): string[];
  /**
   * Statements that create a table if missing, run in order (on PostgreSQL: enum types,
   * CREATE TABLE, COMMENT ON, CREATE INDEX). Throws DeclarationError for what the dialect
   * cannot store (an identifier longer than `maxIdentifierLength`).
   */
  createTable(spec: TableSpec): string[];
  /** `DROP TABLE IF EXISTS`. */
  dropTable(database: string, table: string): string;
  /** Statements applying `changes` to a table, run in order (in one transaction where DDL is transactional). */
  alterTable(database: string, table: string, changes: readonly AlterChange[]): string[];
  /**
   * Statement taking a lock that serializes concurrent declarations of the same name within
   * the enclosing transaction, or null when CREATE … IF NOT EXISTS is already safe.
   */
  declarationLock(name: string): string | null;
}

/**
 * Catalog reads, returning neutral records. Each runs on the session it is given, so a
 * look-up inside a transaction uses the transaction's own connection (never a second pooled
 * one, which could wait forever on an exhausted pool) and sees its uncommitted DDL.
 * Unknown tables give empty results, never an error (an error would abort a PostgreSQL
 * transaction).
 */
export interface Introspector {
  listDatabases(s: Session): Promise<string[]>;
  databaseExists(s: Session, name: string): Promise<boolean>;
  /** Base tables of a schema, hidden (`~`) ones included, by name. */
  listTables(s: Session, database: string): Promise<TableInfo[]>;
  /** Columns in ordinal order; [] when the table does not exist. */
  columns(s: Session, database: string, table: string): Promise<ColumnInfo[]>;
  /** Foreign keys declared by tables of `database` (of one table when given). */
  foreignKeys(s: Session, database: string, table?: string): Promise<ForeignKeyInfo[]>;
  /** Foreign keys in any schema that reference the given table. */
  referencingKeys(s: Session, database: string, table: string): Promise<ForeignKeyInfo[]>;
  /** Indexes of a table, the primary key's included (`primary: true`). */
  indexes(s: Session, database: string, table: string): Promise<IndexInfo[]>;
}

/** Sessions, pool and transactions of one backend. */
export interface Driver {
  /** Run `fn` on one physical session held for its duration (transactions use it). */
  withSession<T>(fn: (s: Session) => Promise<T>): Promise<T>;
  /** A session for single statements: each statement borrows a pooled connection. */
  pooled(): Session;
  begin(s: Session): Promise<void>;
  /** Throws TransactionAbortedError when the server rolled back instead (a failed statement aborted the transaction). */
  commit(s: Session): Promise<void>;
  rollback(s: Session): Promise<void>;
  savepoint(s: Session, name: string): Promise<void>;
  rollbackTo(s: Session, name: string): Promise<void>;
  release(s: Session, name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Driver errors → `dj.errors` classes. Sessions translate every error they raise, so the core
 * only ever sees DataJointError subclasses (`LostConnectionError`, `DeadlockError`, …).
 */
export interface ErrorTranslator {
  /** A DataJointError subclass for a driver error (the input when already one). */
  translateError(err: unknown, sql?: string): Error;
}

/** One backend, ready to use, for one connection's settings. */
export interface Adapter extends Driver {
  readonly backend: BackendName;
  readonly dialect: Dialect;
  readonly introspector: Introspector;
  readonly errors: ErrorTranslator;
}

/** A backend in the registry: its dialect (eager, pure text) and a lazy adapter factory. */
export interface Backend {
  readonly name: BackendName;
  readonly dialect: Dialect;
  /** Default port when the configuration names none (embedded: chosen by the server). */
  readonly defaultPort: number | null;
  /** Load the driver (and start a server, for embedded) and connect a pool. */
  connect(opts: ConnectOptions): Promise<Adapter>;
}

/** Connection settings handed to a backend factory. */
export interface ConnectOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** PostgreSQL: the database holding the DataJoint schemas (default `postgres`). */
  database?: string;
  poolSize?: number;
  useTls?: boolean;
  /** Milliseconds to wait for a pooled connection before failing with a clear error. */
  acquireTimeout?: number;
  /** Embedded backend: the server's data directory. */
  embeddedDir?: string;
}

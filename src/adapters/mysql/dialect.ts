/**
 * MySQL 8 / MariaDB 10.11+ SQL text: quoting, literals, placeholders, clauses and DDL.
 * Pure text, no driver import (the registry loads it eagerly; mysql2 loads on first connect).
 *
 * Value literals mean the same under every sql_mode: a string is quoted with `'` doubled, and a
 * string holding a backslash or NUL (the characters whose reading depends on
 * NO_BACKSLASH_ESCAPES) is written as hex with a charset introducer instead. Bound parameters
 * are inlined with the same function (see format.ts). DDL text (comments, defaults) still
 * escapes backslashes, which matches the sql_mode the driver pins on every session.
 */
import { DeclarationError } from '../../errors.js';
import { utcDatetimeText } from '../../connection/datetime.js';
import type { ValueKind } from '../../heading/kinds.js';
import type { AlterChange, Capabilities, ColumnSpec, Dialect, DuplicatePolicy, SqlValue, StorageType, TableSpec } from '../adapter.js';
import { parseDefault } from '../defaults.js';
import { parseJsonCast } from '../json-types.js';
import { mysqlCoreTypeOf, mysqlNativeType, mysqlSqlType } from './types.js';

const CAPABILITIES: Capabilities = {
  transactionalDdl: false,
  havingAliases: true,
  skipCoversUniqueIndexes: true,
  maxIdentifierLength: 64,
  errorsAbortTransaction: false,
  unsignedTypes: true,
  lockingReadsInWrites: true,
  placesAddedColumns: true,
};

const ESCAPES: Record<string, string> = { '\0': '\\0', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z', '"': '"', "'": "''", '\\': '\\\\' };

/** A string in DDL (comments, defaults): backslash escapes, as the pinned sql_mode reads them. */
function quoteString(s: string): string {
  return `'${s.replace(/[\0\b\t\n\r\x1a'\\]/g, (c) => ESCAPES[c]!)}'`;
}

/** A string value, read the same with or without NO_BACKSLASH_ESCAPES. */
function stringLiteral(s: string): string {
  if (s.includes('\\') || s.includes('\0')) return `_utf8mb4 X'${Buffer.from(s, 'utf8').toString('hex')}'`;
  return s.includes("'") ? `'${s.replace(/'/g, "''")}'` : `'${s}'`;
}

function quoteId(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

function literal(value: SqlValue): string {
  if (value === null || value === undefined) return 'NULL';
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? String(value) : 'NULL';
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? '1' : '0';
    case 'string':
      return stringLiteral(value);
  }
  if (value instanceof Date) return `'${utcDatetimeText(value)}'`;
  if (value instanceof Uint8Array) return value.length === 0 ? "''" : `X'${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}'`;
  throw new DeclarationError(`Cannot express ${String(value)} as an SQL literal`);
}

/** ` DEFAULT …` of a NOT NULL column ('' when it has none). */
function defaultClause(c: ColumnSpec): string {
  if (c.default === null) return '';
  const d = parseDefault(c.default);
  switch (d.kind) {
    case 'null':
      return ' DEFAULT NULL';
    case 'number':
      return ` DEFAULT ${d.text}`;
    case 'bool':
      return ` DEFAULT ${d.value ? 1 : 0}`;
    case 'timestamp':
      return ` DEFAULT CURRENT_TIMESTAMP${d.precision ? `(${d.precision})` : ''}`;
    case 'string':
      return ` DEFAULT ${quoteString(d.value)}`;
  }
}

/** A column as CREATE TABLE and ALTER TABLE write it. */
function columnDefinition(c: ColumnSpec): string {
  const rest = c.nullable ? (c.default === null ? ' DEFAULT NULL' : defaultClause(c)) : ` NOT NULL${c.autoIncrement ? ' AUTO_INCREMENT' : defaultClause(c)}`;
  return `${quoteId(c.name)} ${mysqlSqlType(c.type)}${rest} COMMENT ${quoteString(c.comment)}`;
}

/** One ALTER TABLE statement with every change (MySQL applies them together). */
function alterTable(database: string, table: string, changes: readonly AlterChange[]): string[] {
  const parts = changes.map((ch) => {
    switch (ch.kind) {
      case 'add':
        checkName(ch.column.name, 'Attribute');
        return `ADD ${columnDefinition(ch.column)}${ch.after ? ` AFTER ${quoteId(ch.after)}` : ''}`;
      case 'drop':
        return `DROP ${quoteId(ch.name)}`;
      case 'modify':
        checkName(ch.column.name, 'Attribute');
        return `CHANGE ${quoteId(ch.from)} ${columnDefinition(ch.column)}`;
      case 'comment':
        return `COMMENT=${quoteString(ch.comment)}`;
    }
  });
  return parts.length ? [`ALTER TABLE ${quoteId(database)}.${quoteId(table)}\n  ${parts.join(',\n  ')}`] : [];
}

function checkName(name: string, what: string): void {
  if (Buffer.byteLength(name) > CAPABILITIES.maxIdentifierLength)
    throw new DeclarationError(`${what} name exceeds max length of ${CAPABILITIES.maxIdentifierLength}: ${name}`);
}

/** A JSON path as a MySQL path literal; keys quoted, so any key is a valid path step. */
function jsonPathLiteral(path: ReadonlyArray<string | number>): string {
  return quoteString('$' + path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${JSON.stringify(k)}`)).join(''));
}

/**
 * Text in a replace whose evaluation fails (MySQL: "Subquery returns more than 1 row"); the
 * error translator recognizes it and reports a DuplicateError.
 */
export const REPLACE_CLASH = `(SELECT 'datajoint: replace met another row' UNION ALL SELECT 'on a unique index')`;

/**
 * The ON DUPLICATE KEY UPDATE list of a replace. Not REPLACE INTO, which deletes the old row
 * (refused while dependent tables have rows of it). The row is updated in place, becoming
 * exactly the given row: columns of the statement take their new values (VALUES(c) of a
 * DEFAULT is the default) and the table's other columns their defaults. MySQL would also take
 * a row that collides on a secondary unique index for the duplicate and silently overwrite
 * that other row: the first assignment fails (REPLACE_CLASH) unless the row found has the
 * given primary key. Assignments run left to right, so the check comes first.
 */
function replaceAssignments(columns: readonly string[], primaryKey: readonly string[], allColumns: readonly string[], col: (c: string) => string): string[] {
  const key = new Set(primaryKey);
  const sameKey = primaryKey.map((k) => `${col(k)} <=> VALUES(${quoteId(k)})`).join(' AND ');
  const k0 = col(primaryKey[0]!);
  const given = new Set(columns);
  return [
    `${k0} = IF(${sameKey}, ${k0}, ${REPLACE_CLASH})`,
    ...allColumns.filter((c) => !key.has(c)).map((c) => `${col(c)} = ${given.has(c) ? `VALUES(${quoteId(c)})` : 'DEFAULT'}`),
  ];
}

/** float32, and MySQL's own 4-byte FLOAT spellings (FLOAT(p) with p > 24 is a DOUBLE). */
const FOUR_BYTE_FLOAT = /^(float32|float(\s*\(\s*\d+\s*,\s*\d+\s*\))?|float\s*\(\s*([0-9]|1[0-9]|2[0-4])\s*\))( unsigned)?$/i;

export const mysqlDialect: Dialect = {
  name: 'mysql',
  capabilities: CAPABILITIES,
  quoteId,
  fullName: (database, table) => `${quoteId(database)}.${quoteId(table)}`,
  literal,
  param: () => '?',
  bindValue(kind: ValueKind, value: SqlValue): SqlValue {
    if (kind === 'uuid' && typeof value === 'string') return Buffer.from(value.replace(/-/g, ''), 'hex');
    if (kind === 'bool' && typeof value === 'boolean') return value ? 1 : 0;
    return value;
  },
  limitClause(limit, offset) {
    // MySQL has no OFFSET without LIMIT: the largest row count stands for "no limit".
    if (limit === null) return offset ? ` LIMIT 18446744073709551615 OFFSET ${offset}` : '';
    return offset ? ` LIMIT ${limit} OFFSET ${offset}` : ` LIMIT ${limit}`;
  },
  now: (precision = 0) => (precision ? `NOW(${precision})` : 'NOW()'),
  userSql: (sql) => sql,
  // The global time_zone is what a session that sets none starts with ('SYSTEM' included). A zone
  // CONVERT_TZ cannot read gives NULL, and nothing would ever be due: UTC then, as before.
  serverNow: (precision) => {
    const p = Math.trunc(precision);
    return `COALESCE(CONVERT_TZ(UTC_TIMESTAMP(${p}), '+00:00', @@global.time_zone), UTC_TIMESTAMP(${p}))`;
  },
  addSeconds: (expr, seconds) => `(${expr} + INTERVAL ${Number(seconds)} SECOND)`,
  currentUser: 'CURRENT_USER()',
  connectionIdExpr: 'CONNECTION_ID()',
  killSession: (id) => `KILL ${Math.trunc(Number(id))}`,
  derivedAlias: (alias) => ` AS ${quoteId(alias)}`,
  nullsSmallest: () => '',
  fetchColumn: (column, type) => (FOUR_BYTE_FLOAT.test(type) ? `(${column} + 0E0)` : column),
  jsonValue(column, path, type) {
    // JSON_VALUE then CAST works on MySQL 8 and MariaDB alike (MariaDB has no RETURNING clause).
    const value = `JSON_VALUE(${column}, ${jsonPathLiteral(path)})`;
    if (type === null) return value;
    const c = parseJsonCast(type);
    switch (c.kind) {
      case 'number':
        return value; // compared with a number, MySQL converts the text
      case 'bool':
        // MySQL gives `true`/`false`, MariaDB 1/0.
        return `(CASE ${value} WHEN 'true' THEN 1 WHEN '1' THEN 1 WHEN 'false' THEN 0 WHEN '0' THEN 0 END)`;
      case 'decimal':
        return `CAST(${value} AS DECIMAL${c.precision === null ? '(65,30)' : `(${c.precision}${c.scale === null ? '' : `,${c.scale}`})`})`;
      case 'char':
      case 'varchar':
        return `CAST(${value} AS CHAR(${c.length}))`;
      case 'datetime':
        return `CAST(${value} AS DATETIME(6))`;
      default:
        return `CAST(${value} AS ${c.kind.toUpperCase()})`;
    }
  },

  jsonIsNull(column, path) {
    // JSON_VALUE is NULL for an object or array too: its type tells those from JSON null. MySQL
    // extracts JSON null as a value of type NULL, MariaDB as SQL NULL.
    return `COALESCE(JSON_TYPE(JSON_EXTRACT(${column}, ${jsonPathLiteral(path)})), 'NULL') = 'NULL'`;
  },

  // A row-constructor IN list reads the index by range where that pays (MariaDB 10.11: 150 and
  // 2,000 keys of 22,000 rows) and is matched by a sorted look-up otherwise; an OR of 19,000
  // equalities is neither and took 21 s (0.2 s as an IN list).
  manyRowsIn(columns, rows) {
    if (columns.length < 2 || rows.length < 100) return null;
    return `(${columns.map((c) => c.sql).join(',')}) IN (${rows.map((r) => `(${r.join(',')})`).join(',')})`;
  },

  insert(table, columns, policy: DuplicatePolicy, primaryKey, allColumns = columns) {
    const head = `INSERT INTO ${table} (${columns.map(quoteId).join(',')}) VALUES `;
    // Columns are qualified by the table: in INSERT … SELECT a bare name would be ambiguous.
    const col = (c: string) => `${table}.${quoteId(c)}`;
    if (policy === 'skip') {
      // INSERT IGNORE would also swallow FK and NULL errors; a no-op update only skips duplicates.
      const k = col(primaryKey[0] ?? columns[0]!);
      return { head, tail: ` ON DUPLICATE KEY UPDATE ${k}=${k}` };
    }
    if (policy === 'replace') return { head, tail: ` ON DUPLICATE KEY UPDATE ${replaceAssignments(columns, primaryKey, allColumns, col).join(', ')}` };
    return { head, tail: '' };
  },
  insertDefaults: (table) => `INSERT INTO ${table} () VALUES ()`,
  afterExplicitAutoIncrement: () => null, // AUTO_INCREMENT follows the largest value itself

  sqlType: (t: StorageType) => mysqlSqlType(t),
  coreTypeOf: mysqlCoreTypeOf,
  nativeType: mysqlNativeType,
  // PostgreSQL's own spellings (`bytea`, `boolean`…) are not translated on MySQL.
  foreignNativeType: () => null,

  createDatabase: (name) => [`CREATE DATABASE IF NOT EXISTS ${quoteId(name)}`],
  dropDatabase: (name) => [`DROP DATABASE IF EXISTS ${quoteId(name)}`],
  createTable(spec: TableSpec): string[] {
    checkName(spec.name, 'Table');
    for (const c of spec.columns) checkName(c.name, 'Attribute');
    const body = spec.columns.map(columnDefinition);
    body.push(`PRIMARY KEY (${spec.primaryKey.map(quoteId).join(',')})`);
    for (const fk of spec.foreignKeys)
      body.push(
        `FOREIGN KEY (${fk.columns.map(quoteId).join(',')}) REFERENCES ${quoteId(fk.refDatabase)}.${quoteId(fk.refTable)} (${fk.refColumns.map(quoteId).join(',')}) ON UPDATE CASCADE ON DELETE RESTRICT`,
      );
    for (const ix of spec.indexes) body.push(`${ix.unique ? 'UNIQUE ' : ''}INDEX (${ix.columns.map((c) => (c.startsWith('(') ? c : quoteId(c))).join(',')})`);
    return [`CREATE TABLE IF NOT EXISTS ${quoteId(spec.database)}.${quoteId(spec.name)} (\n  ${body.join(',\n  ')}\n) ENGINE=InnoDB COMMENT=${quoteString(spec.comment)}`];
  },
  dropTable: (database, table) => `DROP TABLE IF EXISTS ${quoteId(database)}.${quoteId(table)}`,
  alterTable,
  // CREATE TABLE IF NOT EXISTS is atomic on MySQL: concurrent declarations need no lock.
  declarationLock: () => null,
};

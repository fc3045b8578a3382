/**
 * PostgreSQL 15+ SQL text: quoting, literals, placeholders, clauses and DDL. Pure text, no
 * driver import (the registry loads it eagerly; `pg` loads on the first connection).
 *
 * String literals double `'`; a string holding a backslash is written as an escape string
 * (`E'…'`, backslashes doubled), which reads the same whether standard_conforming_strings is on
 * (as every session starts) or was turned off in the session. Times are UTC:
 * sessions run with TimeZone UTC and `now()` converts explicitly, so even a session whose zone
 * was changed writes UTC.
 */
import { createHash } from 'node:crypto';
import { DataJointError } from '../../errors.js';
import type { ValueKind } from '../../heading/kinds.js';
import type { Capabilities, Dialect, DuplicatePolicy, SqlValue, StorageType, TableSpec } from '../adapter.js';
import { alterTableStatements, checkIdentifier, createTableStatements } from './ddl.js';
import { parseJsonCast } from '../json-types.js';
import { utcNow } from './defaults.js';
import { pgDatetimeText } from './timestamps.js';
import { rewriteMysqlFunctions } from './mysql-functions.js';
import { postgresCoreTypeOf, postgresNativeType, postgresSqlType, quoteId, quoteString } from './types.js';
import { mysqlTypeOnPostgres } from './mysql-types.js';
import { postgresManyRowsIn } from './rows-in.js';

const CAPABILITIES: Capabilities = {
  transactionalDdl: true,
  havingAliases: false,
  skipCoversUniqueIndexes: false,
  maxIdentifierLength: 63,
  errorsAbortTransaction: true,
  unsignedTypes: false,
  lockingReadsInWrites: false,
  placesAddedColumns: false,
};

function hex(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
}

function literal(value: SqlValue): string {
  if (value === null || value === undefined) return 'NULL';
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? String(value) : 'NULL';
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'TRUE' : 'FALSE';
    case 'string':
      return value.includes('\\') ? `E${quoteString(value.replace(/\\/g, '\\\\'))}` : quoteString(value);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new DataJointError('Cannot express an invalid Date as an SQL literal');
    return `'${pgDatetimeText(value)}'`;
  }
  if (value instanceof Uint8Array) return `E'\\\\x${hex(value)}'::bytea`;
  throw new DataJointError(`Cannot express ${String(value)} as an SQL literal`);
}

/** Canonical text of a 16-byte uuid. */
function uuidText(b: Uint8Array): string {
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The text at a JSON path (array indexes are path elements too: '0' selects an array's first element). */
function jsonText(column: string, path: ReadonlyArray<string | number>): string {
  return `jsonb_extract_path_text(${column}, ${path.map((k) => quoteString(String(k))).join(', ')})`;
}

/** Decimal number text as a PostgreSQL regex: what a numeric cast of a JSON value may read. */
const NUMBER_SHAPE = '^\\s*[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?\\s*$';

/** A 64-bit advisory-lock key for a name: stable across clients and server versions. */
function lockKey(name: string): bigint {
  return BigInt.asIntN(64, BigInt('0x' + createHash('md5').update(`datajoint:${name}`).digest('hex').slice(0, 16)));
}

function insert(
  table: string,
  columns: readonly string[],
  policy: DuplicatePolicy,
  primaryKey: readonly string[],
  allColumns: readonly string[] = columns,
): { head: string; tail: string } {
  const head = `INSERT INTO ${table} (${columns.map(quoteId).join(', ')}) VALUES `;
  if (policy === 'error') return { head, tail: '' };
  const target = primaryKey.length ? ` (${primaryKey.map(quoteId).join(', ')})` : '';
  // Only a conflict on the primary key is skipped or replaced: a row that violates a
  // secondary unique index still fails (MySQL's skip lets it pass).
  if (policy === 'skip' || !target) return { head, tail: ` ON CONFLICT${target} DO NOTHING` };
  // replace: the row becomes exactly the given one (EXCLUDED.c of a DEFAULT is the default;
  // columns not inserted take theirs), updated in place so rows of dependent tables stay. A
  // table of key columns only sets one to itself: the row counts as replaced, as on MySQL.
  const key = new Set(primaryKey);
  const given = new Set(columns);
  const sets = allColumns.filter((c) => !key.has(c)).map((c) => `${quoteId(c)} = ${given.has(c) ? `EXCLUDED.${quoteId(c)}` : 'DEFAULT'}`);
  if (sets.length === 0) sets.push(`${quoteId(primaryKey[0]!)} = EXCLUDED.${quoteId(primaryKey[0]!)}`);
  return { head, tail: ` ON CONFLICT${target} DO UPDATE SET ${sets.join(', ')}` };
}

export const postgresDialect: Dialect = {
  name: 'postgresql',
  capabilities: CAPABILITIES,
  quoteId,
  fullName: (database, table) => `${quoteId(database)}.${quoteId(table)}`,
  literal,
  param: (index) => `$${index}`,
  bindValue(kind: ValueKind, value: SqlValue): SqlValue {
    if (kind === 'uuid' && value instanceof Uint8Array && value.length === 16) return uuidText(value);
    if (kind === 'bool' && (value === 0 || value === 1)) return value === 1;
    return value;
  },
  limitClause(limit, offset) {
    const off = offset ? ` OFFSET ${Math.trunc(offset)}` : '';
    return limit === null ? off : ` LIMIT ${Math.trunc(limit)}${off}`;
  },
  now: (precision) => utcNow(precision),
  userSql: rewriteMysqlFunctions,
  // reset_val: the zone a session gets from the server, database and role settings (ours set
  // UTC after connecting, driver.ts, so it is not theirs).
  serverNow: (precision) => `(CURRENT_TIMESTAMP(${Math.trunc(precision)}) AT TIME ZONE (SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'))`,
  addSeconds(expr, seconds) {
    if (!Number.isFinite(seconds)) throw new DataJointError(`Cannot add ${seconds} seconds to a time`);
    return `(${expr} + (${Number(seconds)}) * INTERVAL '1 second')`;
  },
  currentUser: 'current_user',
  connectionIdExpr: 'pg_backend_pid()',
  killSession(connectionId) {
    if (!Number.isSafeInteger(connectionId)) throw new DataJointError(`Invalid connection id ${connectionId}`);
    return `SELECT pg_terminate_backend(${connectionId})`;
  },
  derivedAlias: (alias) => ` AS ${quoteId(alias)}`,
  nullsSmallest: (descending) => (descending ? ' NULLS LAST' : ' NULLS FIRST'),
  // real prints as the shortest text that reads back as the same float (extra_float_digits = 1).
  fetchColumn: (column) => column,
  jsonValue(column, path, type) {
    const value = jsonText(column, path);
    if (type === null) return value;
    const c = parseJsonCast(type);
    // A cast of text that is no such value fails the whole query on PostgreSQL (one row holding
    // `true` or `'abc'` where others hold numbers), where MySQL's CAST gives NULL or 0: the cast
    // runs only on text of the right shape, and other text is NULL (it matches nothing).
    const guarded = (shape: string, cast: string) => `(CASE WHEN ${value} ~ ${quoteString(shape)} THEN ${cast} END)`;
    // Numbers as MariaDB reads them: JSON true and false are 1 and 0.
    const numeric = (cast: (text: string) => string) =>
      `(CASE ${value} WHEN 'true' THEN ${cast("'1'")} WHEN 'false' THEN ${cast("'0'")} ELSE ${guarded(NUMBER_SHAPE, cast(`(${value})`))} END)`;
    const text = `(${value})`;
    switch (c.kind) {
      case 'bool':
        return `(CASE ${value} WHEN 'true' THEN TRUE WHEN '1' THEN TRUE WHEN 'false' THEN FALSE WHEN '0' THEN FALSE END)`;
      case 'char':
      case 'varchar':
        return `${text}::${c.kind}(${c.length})`;
      case 'decimal':
        return numeric((t) => `${t}::numeric${c.precision === null ? '' : `(${c.precision}${c.scale === null ? '' : `,${c.scale}`})`}`);
      case 'float':
        return numeric((t) => `${t}::real`);
      case 'double':
        return numeric((t) => `${t}::double precision`);
      case 'number':
        return numeric((t) => `${t}::numeric`);
      case 'signed': // MySQL's CAST AS SIGNED cuts a fraction (1.5 → 1)
        return numeric((t) => `trunc(${t}::numeric)::bigint`);
      case 'unsigned':
        return numeric((t) => `trunc(${t}::numeric)::numeric(20)`);
      case 'date':
        return guarded('^\\s*\\d{4}-\\d{1,2}-\\d{1,2}\\s*$', `${text}::date`);
      case 'datetime':
        return guarded('^\\s*\\d{4}-\\d{1,2}-\\d{1,2}([ T]\\d{1,2}:\\d{2}(:\\d{2}(\\.\\d+)?)?)?\\s*$', `${text}::timestamp`);
      case 'time':
        return guarded('^\\s*-?\\d+:\\d{2}(:\\d{2}(\\.\\d+)?)?\\s*$', `${text}::time`);
    }
  },

  // The text of JSON null is SQL NULL; an object or an array has text.
  jsonIsNull: (column, path) => `${jsonText(column, path)} IS NULL`,
  manyRowsIn: postgresManyRowsIn,

  insert,
  insertDefaults: (table) => `INSERT INTO ${table} DEFAULT VALUES`,
  // Never backwards: another session may have drawn values past the largest stored (uncommitted).
  afterExplicitAutoIncrement: (database, table, column) => {
    const seq = `pg_get_serial_sequence(${quoteString(`${quoteId(database)}.${quoteId(table)}`)}, ${quoteString(column)})::regclass`;
    return `SELECT setval(s, GREATEST(m, COALESCE(pg_sequence_last_value(s), 0))) FROM (SELECT ${seq} AS s, (SELECT MAX(${quoteId(column)}) FROM ${quoteId(database)}.${quoteId(table)}) AS m) AS x WHERE m > 0`;
  },

  sqlType: (t: StorageType, database: string) => postgresSqlType(t, database),
  coreTypeOf: postgresCoreTypeOf,
  nativeType: postgresNativeType,
  foreignNativeType: mysqlTypeOnPostgres,

  createDatabase(name) {
    checkIdentifier(name, 'Schema');
    return [`CREATE SCHEMA IF NOT EXISTS ${quoteId(name)}`];
  },
  dropDatabase: (name) => [`DROP SCHEMA IF EXISTS ${quoteId(name)} CASCADE`],
  createTable: (spec: TableSpec) => createTableStatements(spec),
  // No CASCADE: dropping a parent must fail while children reference it (as on MySQL).
  dropTable: (database, table) => `DROP TABLE IF EXISTS ${quoteId(database)}.${quoteId(table)}`,
  alterTable: alterTableStatements,
  // Two sessions running the same CREATE TABLE IF NOT EXISTS at once can collide in pg_type:
  // a transaction-scoped advisory lock serializes them (released at COMMIT/ROLLBACK).
  declarationLock: (name) => `SELECT pg_advisory_xact_lock(${lockKey(name)})`,
};

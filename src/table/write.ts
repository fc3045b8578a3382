/**
 * Changing data (API.md §5): insert (objects, arrays, Arrow, async iterables, a query),
 * update1 and validate. Every value of an in-memory input is converted and checked before the
 * first statement is sent; an insert is one transaction unless `chunkSize` asks for several.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataJointError, LostConnectionError, MissingAttributeError, UnknownAttributeError } from '../errors.js';
import { staleHeadingError } from './heading-cache.js';
import type { DuplicatePolicy, ExecResult } from '../adapters/adapter.js';
import { Bindings } from '../adapters/bind.js';
import type { Connection } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import { type QueryExpression, toExpression } from '../expression/expression.js';
import { selectSql } from '../expression/state.js';
import { InvalidArrowValue } from '../expression/arrow-rows.js';
import { encodeScalar, encodeValue } from '../fetch/convert.js';
import { inMemoryRows, insertStatements, isAsyncIterable, type Statement } from './insert.js';
import { type InsertOptions, type PreparedRow, type RowInput, RowPreparer, isNullValue } from './row-preparer.js';
import type { TierName } from './names.js';
import { BATCH_BYTES, rowBytes } from '../adapters/row-bytes.js';

export interface ValidationResult {
  isValid: boolean;
  errors: Array<{ row: number; field: string | null; message: string }>;
  /** How many rows were checked (DataJoint Python's `rows_checked`). */
  rowsChecked: number;
  /** The errors a line each (`Row 3, field 'dob': …`), or a line saying all rows passed. */
  summary(): string;
}

function validationResult(errors: ValidationResult['errors'], rowsChecked: number): ValidationResult {
  return {
    isValid: errors.length === 0,
    errors,
    rowsChecked,
    summary: () =>
      errors.length === 0
        ? `All ${rowsChecked} row(s) passed validation`
        : errors.map((e) => `Row ${e.row}${e.field === null ? '' : `, field '${e.field}'`}: ${e.message}`).join('\n'),
  };
}

/** Set while populate runs a make(), so inserts into the auto-populated table are allowed. */
export const populateContext = new AsyncLocalStorage<{ tables: Set<string> }>();

/** What writing needs from the table. */
export interface WriteTarget {
  readonly connection: Connection;
  readonly database: string;
  readonly tableName: string;
  readonly fullTableName: string;
  readonly tier: TierName;
  readonly isRestricted: boolean;
  /** The master's tier and SQL name, for a part table. */
  readonly masterInfo: { tier: TierName; tableName: string } | null;
  tableHeading(): Promise<Heading>;
}

/** Auto-populated tables take rows only from populate (or with allowDirectInsert). */
export function checkDirectInsert(t: WriteTarget, opts: InsertOptions): void {
  const effective = t.tier === 'part' && t.masterInfo ? t.masterInfo.tier : t.tier;
  if ((effective !== 'computed' && effective !== 'imported') || opts.allowDirectInsert) return;
  const owner = t.tier === 'part' && t.masterInfo ? t.masterInfo.tableName : t.tableName;
  if (populateContext.getStore()?.tables.has(`${t.database}.${owner}`)) return;
  throw new DataJointError(
    `Direct insert into auto-populated table ${t.fullTableName} is not allowed: its rows are computed by populate(). Pass { allowDirectInsert: true } to override.`,
  );
}

/** Run fn in the caller's transaction if there is one, else in a new one (not a savepoint). */
function inTransaction<T>(conn: Connection, fn: () => Promise<T>): Promise<T> {
  return conn.inTransaction ? fn() : conn.transaction(fn);
}

/**
 * The statement that moves the counter of the table's auto-increment attribute `name` past the
 * values rows brought with them (Dialect.afterExplicitAutoIncrement), or null: none needed.
 */
const autoIncrementSync = (t: WriteTarget, name: string | undefined): string | null =>
  name === undefined ? null : t.connection.dialect.afterExplicitAutoIncrement(t.database, t.tableName, name);

/** `write`, then `sync` (autoIncrementSync) in the same transaction. */
function writeThenSync(conn: Connection, sync: string, write: () => Promise<number>): Promise<number> {
  return inTransaction(conn, async () => {
    const n = await write();
    await conn.execute(sync);
    return n;
  });
}

/**
 * An attribute the cached heading lacks, found before anything was sent: when the table was
 * altered by another process, a TableChangedError (the heading is current now). A write is not
 * run again on its own: the caller decides (the server's unknown columns are explained by the
 * connection, see table/heading-cache.ts).
 */
async function explainUnknown(t: WriteTarget, err: unknown): Promise<unknown> {
  return (await staleHeadingError(t.connection, [{ database: t.database, name: t.tableName }], err)) ?? err;
}

export async function insert(t: WriteTarget, rows: unknown, opts: InsertOptions = {}): Promise<number> {
  try {
    return await insertRows(t, rows, opts);
  } catch (err) {
    throw await explainUnknown(t, err);
  }
}

async function insertRows(t: WriteTarget, rows: unknown, opts: InsertOptions): Promise<number> {
  const heading = await t.tableHeading();
  checkDirectInsert(t, opts);
  if (opts.replace && opts.skipDuplicates) throw new DataJointError('insert: replace and skipDuplicates cannot both be set');
  const policy: DuplicatePolicy = opts.replace ? 'replace' : opts.skipDuplicates ? 'skip' : 'error';
  const conn = t.connection;
  const operand = toExpression(rows);
  if (operand) return insertFromQuery(t, operand, heading, policy, opts);

  const preparer = new RowPreparer(heading, opts, { schema: t.database, table: t.tableName });
  // In a caller's transaction (a make's), the objects only these rows own go if it rolls back.
  if (preparer.mayWriteObjects) conn.onRollback(() => preparer.discardObjects());
  const run = async (statements: Statement[]) => {
    let n = 0;
    for (const s of statements) {
      const r = await conn.execute(s.sql, s.params);
      // A replace that succeeds wrote each of its rows once (MySQL counts an updated row twice).
      n += policy === 'replace' ? s.rows : rowsWritten(r, policy);
    }
    return n;
  };
  // Rows that give the auto-increment attribute a value of their own move its counter past it.
  const auto = preparer.columns.findIndex((a) => a.autoIncrement);
  const syncAuto = autoIncrementSync(t, preparer.columns[auto]?.name);
  // One statement is atomic by itself; several need a transaction so a failure undoes them all.
  const write = (prepared: PreparedRow[]) => {
    const statements = [...insertStatements(conn.dialect, t.fullTableName, preparer.columns, prepared, policy, heading.primaryKey)];
    if (syncAuto && prepared.some((p) => p.values[auto] !== undefined)) return writeThenSync(conn, syncAuto, () => run(statements));
    return statements.length === 1 ? run(statements) : inTransaction(conn, () => run(statements));
  };
  const chunk = opts.chunkSize && opts.chunkSize > 0 ? Math.floor(opts.chunkSize) : Infinity;

  const arr = inMemoryRows(rows, heading);
  if (arr) {
    // Convert everything first: a bad value anywhere means nothing is written. Objects that
    // only these rows own are removed again if the insert fails.
    try {
      const prepared = await preparer.prepareAll(arr);
      if (prepared.length === 0) return 0;
      if (chunk === Infinity) return await write(prepared);
      let n = 0;
      for (let i = 0; i < prepared.length; i += chunk) n += await write(prepared.slice(i, i + chunk));
      return n;
    } catch (err) {
      if (chunk === Infinity && !outcomeUnknown(err)) await preparer.discardObjects();
      throw err;
    }
  }
  if (isAsyncIterable(rows) || (typeof rows === 'object' && rows !== null && Symbol.iterator in rows)) {
    const batchRows = chunk === Infinity ? 10_000 : chunk;
    // In one transaction, statements of at most ~16 MiB as well: 10,000 rows of large blobs
    // would be held (and sent) at once. With chunkSize, each chunk is its own transaction, as asked.
    const batchBytes = chunk === Infinity ? BATCH_BYTES : Infinity;
    const consume = async () => {
      let n = 0;
      let batch: PreparedRow[] = [];
      let bytes = 0;
      for await (const r of rows as AsyncIterable<RowInput>) {
        const prepared = await preparer.prepare(r);
        batch.push(prepared);
        bytes += rowBytes(prepared.values);
        if (batch.length >= batchRows || bytes >= batchBytes) {
          n += await write(batch);
          batch = [];
          bytes = 0;
        }
      }
      if (batch.length) n += await write(batch);
      return n;
    };
    // Without chunkSize the whole stream is one transaction: a failure midway undoes it all
    // (and the objects only its rows owned are removed).
    if (chunk !== Infinity) return consume();
    return inTransaction(conn, consume).catch(async (err: unknown) => {
      if (!outcomeUnknown(err)) await preparer.discardObjects();
      throw err;
    });
  }
  throw new DataJointError('insert expects an array of rows (objects or arrays), an Arrow table, an async iterable, or a query expression');
}

/**
 * Whether a failed write may still have committed: a connection lost before its reply (an
 * autocommitted INSERT, or a COMMIT) leaves the rows possibly stored, so their objects stay
 * (an orphan is dj.gc's to remove; a row pointing at a deleted object would be data lost).
 */
const outcomeUnknown = (err: unknown): boolean => err instanceof LostConnectionError;

/** INSERT … SELECT of a query's rows. */
async function insertFromQuery(t: WriteTarget, expr: QueryExpression, heading: Heading, policy: DuplicatePolicy, opts: InsertOptions): Promise<number> {
  if (opts.chunkSize !== undefined) throw new DataJointError('insert: chunkSize does not apply to a query (INSERT … SELECT runs as one statement)');
  const state = await expr.compileState();
  const names = state.heading.names.filter((n) => {
    if (heading.has(n)) return true;
    if (opts.ignoreExtraFields) return false;
    throw new UnknownAttributeError(`Attribute \`${n}\` of the query is not in ${t.fullTableName}`);
  });
  for (const a of heading.all) {
    if (!names.includes(a.name) && a.default === null && !a.nullable && !a.autoIncrement)
      throw new MissingAttributeError(`The query does not provide attribute \`${a.name}\`, which has no default`);
  }
  const d = t.connection.dialect;
  const stored = heading.all.filter((a) => !a.expression).map((a) => a.name);
  const { head, tail } = d.insert(t.fullTableName, names, policy, heading.primaryKey, stored);
  // Wrap as a derived table so inserting into a table the query reads from is allowed.
  const select = `SELECT * FROM (${selectSql(state, d, names)})${d.derivedAlias('$ins')}`;
  const sql = head.replace(/ VALUES $/, ' ') + select + tail;
  const syncAuto = autoIncrementSync(t, heading.all.find((a) => a.autoIncrement && names.includes(a.name))?.name);
  const write = async () => rowsWritten(await t.connection.execute(sql), policy, true);
  return syncAuto ? writeThenSync(t.connection, syncAuto, write) : inTransaction(t.connection, write);
}

/**
 * The rows an INSERT wrote: a skipped duplicate counts 0 and a replaced row 1 on every backend,
 * as far as MySQL tells. Its affected rows count a skipped one 1 and a replaced one 2; its
 * `Records` (multi-row INSERT and INSERT … SELECT) are the rows written by a replace, and less
 * its `Duplicates` those of a multi-row skip. It says nothing more of a single-row skip, and an
 * INSERT … SELECT's `Duplicates` leave out rows skipped unchanged: there a skipped row counts 1.
 */
function rowsWritten(r: ExecResult, policy: DuplicatePolicy, fromQuery = false): number {
  if (!r.written || policy === 'error') return r.affectedRows;
  if (policy === 'replace') return r.written.records;
  return fromQuery ? r.affectedRows : r.written.records - r.written.duplicates;
}

export async function validate(t: WriteTarget, rows: unknown, opts: InsertOptions = {}): Promise<ValidationResult> {
  const heading = await t.tableHeading();
  const preparer = new RowPreparer(heading, opts, { schema: t.database, table: t.tableName });
  let arr: RowInput[];
  try {
    arr = inMemoryRows(rows, heading) ?? (rows && typeof rows === 'object' ? [rows as RowInput] : []);
  } catch (err) {
    // An Arrow column the attribute cannot take (JSON that is not JSON) stops reading the table.
    if (!(err instanceof InvalidArrowValue)) throw err;
    return validationResult([{ row: err.row, field: err.field, message: err.message }], err.row + 1);
  }
  const errors: ValidationResult['errors'] = [];
  for (let i = 0; i < arr.length; i++) {
    // Every problem of the row, as DataJoint Python lists them (never writes to a store).
    for (const { message } of await preparer.problems(arr[i]!)) errors.push({ row: i, field: /`([^`]+)`/.exec(message)?.[1] ?? null, message });
  }
  return validationResult(errors, arr.length);
}

/** Update secondary attributes of one existing row identified by its full primary key. */
export async function update1(t: WriteTarget, row: Record<string, unknown>): Promise<number> {
  try {
    return await updateRow(t, row);
  } catch (err) {
    throw await explainUnknown(t, err);
  }
}

async function updateRow(t: WriteTarget, row: Record<string, unknown>): Promise<number> {
  if (t.isRestricted) throw new DataJointError('update1 cannot be applied to a restricted table: pass the full primary key in the row');
  if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new DataJointError('update1 expects one row as an object');
  const heading = await t.tableHeading();
  const pk = heading.primaryKey;
  for (const k of pk) if (!(k in row)) throw new MissingAttributeError(`update1: the row must include the primary key attribute \`${k}\``);
  const d = t.connection.dialect;
  const key = Object.fromEntries(pk.map((k) => [k, row[k]]));
  const whereOf = (b: Bindings) => pk.map((k) => `${d.quoteId(k)}=${b.add(encodeScalar(heading.get(k)!, row[k]), heading.get(k)!.kind)}`).join(' AND ');
  for (const k of Object.keys(row)) if (!heading.get(k)) throw new UnknownAttributeError(`Attribute \`${k}\` is not in ${t.fullTableName}`);
  if (Object.keys(row).every((k) => heading.get(k)!.inKey)) throw new DataJointError('update1: no secondary attributes to update');
  // Before any value is encoded: an upload for a row that does not exist would stay behind.
  const check = new Bindings(d);
  const exists = await t.connection.query(`SELECT COUNT(*) AS n FROM ${t.fullTableName} WHERE ${whereOf(check)}`, check.values);
  if (Number(exists[0]!.n) !== 1)
    throw new DataJointError(`update1: no row with key ${JSON.stringify(key, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))} in ${t.fullTableName}`);
  const update = new Bindings(d);
  const sets: string[] = [];
  for (const [k, v] of Object.entries(row)) {
    const a = heading.get(k);
    if (!a) throw new UnknownAttributeError(`Attribute \`${k}\` is not in ${t.fullTableName}`);
    if (a.inKey) continue;
    if (isNullValue(a, v)) {
      // null means DEFAULT, as in insert (and in DataJoint Python's update1).
      if (a.default === null && !a.nullable) throw new MissingAttributeError(`update1: attribute \`${k}\` of ${t.fullTableName} cannot be NULL and has no default`);
      sets.push(`${d.quoteId(k)}=DEFAULT`);
    } else sets.push(`${d.quoteId(k)}=${update.add(await encodeValue(a, v, { key, schema: t.database, table: t.tableName }), a.kind)}`);
  }
  if (sets.length === 0) throw new DataJointError('update1: no secondary attributes to update');
  const sql = `UPDATE ${t.fullTableName} SET ${sets.join(',')} WHERE ${whereOf(update)}`;
  return (await t.connection.execute(sql, update.values)).affectedRows;
}

/**
 * Tables: the base class of the user's table classes (Manual, Lookup, Imported, Computed, Part)
 * and of FreeTable. A table is a query expression whose FROM is the table itself; restricting
 * it keeps it a table, so delete/fetch1 work on the restricted set.
 */
import { createInterface } from 'node:readline/promises';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataJointError, IntegrityError, MissingAttributeError, UnknownAttributeError } from '../errors.js';
import { config } from '../config.js';
import type { Connection } from '../connection/connection.js';
import type { Dialect, SqlValue } from '../connection/adapter.js';
import type { Heading } from '../heading/heading.js';
import { QueryExpression, operandResolver, type AggrArg, type Operand, type ProjArg, type RestrictOptions } from '../expression/expression.js';
import type { JoinOptions } from '../expression/join.js';
import type { ArrowOptions } from '../fetch/arrow.js';
import type { RecordBatch, Table as ArrowTable } from 'apache-arrow';
import { type State, selectSql } from '../expression/state.js';
import { encodeScalar, encodeValue } from '../fetch/convert.js';
import { type InsertOptions, type PreparedRow, type RowInput, RowPreparer, inMemoryRows, insertStatements, isAsyncIterable } from './insert.js';
import { type TierName, TIER_PREFIX, toSnakeCase, parseTableName } from './names.js';
import { type TableId, childrenOf, descendants, masterOf, tableKey } from './graph.js';
import type { Row } from '../fetch/fetch.js';

export type { InsertOptions } from './insert.js';

/** What a table needs from its schema (kept abstract to avoid an import cycle). */
export interface SchemaLike {
  readonly database: string;
  readonly connection: Connection;
  ensureDeclared(cls: TableClass): Promise<void>;
  headingOf(tableName: string): Promise<Heading>;
  invalidate(tableName?: string): void;
  /** Class registered for an SQL table name, if any (for describe()). */
  classNameOf(database: string, tableName: string): string | null;
  /** After tables were dropped: forget their lineage, headings and declared state. */
  forgetTables(tableNames: string[]): Promise<void>;
}

export type TableClass<T extends Table = Table> = (new () => T) & typeof Table & DeclaredTable;

/** The statics a user's table class declares. */
export interface DeclaredTable {
  /** Definition text in the DataJoint definition language. */
  definition?: string;
  /** Lookup contents: arrays in heading order, or objects. */
  contents?: unknown[];
}

export interface DeleteOptions {
  transaction?: boolean;
  prompt?: boolean;
  partIntegrity?: 'enforce' | 'ignore' | 'cascade';
}

export interface DropOptions {
  prompt?: boolean;
  partIntegrity?: 'enforce' | 'ignore' | 'cascade';
}

export interface ValidationResult {
  isValid: boolean;
  errors: Array<{ row: number; field: string | null; message: string }>;
}

/** Set while populate runs a make(), so inserts into the auto-populated table are allowed. */
export const populateContext = new AsyncLocalStorage<{ tables: Set<string> }>();

/** SQL names computed from class names (a part's name also depends on its master). */
const tableNames = new WeakMap<object, { master: unknown; name: string }>();

/** Per-connection heading cache for tables without a schema object (FreeTable). */
const freeHeadings = new WeakMap<Connection, Map<string, Promise<Heading>>>();

export class Table extends QueryExpression {
  // `static definition` (and `contents` for lookups) are declared by user classes, not here, so
  // that they need no `override` under noImplicitOverride. They are read lazily at
  // declaration (decorators run before static fields); see DeclaredTable.
  static tier: TierName = 'manual';
  static _schema?: SchemaLike;
  static _master?: TableClass;
  /** SQL name override (virtual schemas). */
  static _sqlName?: string;

  constructor() {
    super();
    // Parts are static properties of the master; expose them on instances too (`this.Trial`).
    const ctor = this.constructor as typeof Table;
    for (const [k, v] of Object.entries(ctor)) {
      if (typeof v === 'function' && (v as typeof Table).prototype instanceof Table && (v as typeof Table).tier === 'part') {
        Object.defineProperty(this, k, { value: v, enumerable: false });
      }
    }
  }

  static get tableName(): string {
    if (this._sqlName) return this._sqlName;
    const cached = tableNames.get(this);
    if (cached && cached.master === this._master) return cached.name;
    let name: string;
    if (this.tier === 'part') {
      const master = this._master;
      if (!master) throw new DataJointError(`Part table ${this.name} is not attached to a master (define it as a static property of the master and register the master)`);
      name = `${master.tableName}__${toSnakeCase(this.name)}`;
    } else name = TIER_PREFIX[this.tier as Exclude<TierName, 'part'>] + toSnakeCase(this.name);
    tableNames.set(this, { master: this._master, name });
    return name;
  }

  static get schema(): SchemaLike {
    const s = this._schema ?? this._master?._schema;
    if (!s) throw new DataJointError(`Table class ${this.name} is not registered with a schema: use schema.add(${this.name}) or @schema`);
    return s;
  }

  static get database(): string {
    return this.schema.database;
  }

  static get fullTableName(): string {
    return this.schema.connection.dialect.fullName(this.database, this.tableName);
  }

  // ---- identity of this instance's table ----
  get connection(): Connection {
    return (this.constructor as typeof Table).schema.connection;
  }
  get database(): string {
    return (this.constructor as typeof Table).database;
  }
  get tableName(): string {
    return (this.constructor as typeof Table).tableName;
  }
  get fullTableName(): string {
    return this.connection.dialect.fullName(this.database, this.tableName);
  }
  get tier(): TierName {
    return (this.constructor as typeof Table).tier;
  }
  /** @internal */
  schemaOrNull(): SchemaLike | null {
    const ctor = this.constructor as typeof Table;
    return ctor._schema ?? ctor._master?._schema ?? null;
  }
  /** @internal */
  get isRestricted(): boolean {
    return this._restrictions.length > 0;
  }

  /** Declare the table (and its parents and parts) if missing. */
  async declare(): Promise<void> {
    const ctor = this.constructor as typeof Table;
    await ctor.schema.ensureDeclared(ctor as TableClass);
  }

  /** Heading of the table itself (all attributes, hidden included). */
  async tableHeading(): Promise<Heading> {
    await this.declare();
    return (this.constructor as typeof Table).schema.headingOf(this.tableName);
  }

  /** @internal */

  async baseState(): Promise<State> {
    const heading = await this.tableHeading();
    return { heading, from: this.fullTableName, where: [], groupBy: null, having: [], distinct: false, top: null, table: { database: this.database, name: this.tableName } };
  }


  // ---- insert ----
  async insert(rows: unknown, opts: InsertOptions = {}): Promise<number> {
    const heading = await this.tableHeading();
    this.checkDirectInsert(opts);
    if (opts.replace && opts.skipDuplicates) throw new DataJointError('insert: replace and skipDuplicates cannot both be set');
    const policy = opts.replace ? 'replace' : opts.skipDuplicates ? 'skip' : 'error';
    const conn = this.connection;
    const operand = operandResolver.toExpression(rows);
    if (operand) return this.insertFromQuery(operand, heading, policy, opts);

    const preparer = new RowPreparer(heading, opts);
    const statements = (prepared: PreparedRow[]) => [...insertStatements(conn.dialect, this.fullTableName, preparer.columns, prepared, policy, heading.primaryKey)];
    const run = async (sqls: string[]) => {
      let n = 0;
      for (const sql of sqls) n += (await conn.execute(sql)).affectedRows;
      return n;
    };
    // In the caller's transaction if there is one, else in a new one (not a savepoint).
    const inTx = async (fn: () => Promise<number>) => (conn.inTransaction ? fn() : conn.transaction(fn));
    // One statement is atomic by itself; several need a transaction so a failure undoes them all.
    const write = (prepared: PreparedRow[]) => {
      const sqls = statements(prepared);
      return sqls.length === 1 ? run(sqls) : inTx(() => run(sqls));
    };
    const chunk = opts.chunkSize && opts.chunkSize > 0 ? Math.floor(opts.chunkSize) : Infinity;

    const arr = inMemoryRows(rows);
    if (arr) {
      // Convert everything first: a bad value anywhere means nothing is written.
      const prepared: PreparedRow[] = new Array(arr.length);
      for (let i = 0; i < arr.length; i++) {
        try {
          prepared[i] = await preparer.prepare(arr[i]!);
        } catch (err) {
          if (err instanceof DataJointError && arr.length > 1) err.message = `Row ${i}: ${err.message}`;
          throw err;
        }
      }
      if (prepared.length === 0) return 0;
      if (chunk === Infinity) return write(prepared);
      let n = 0;
      for (let i = 0; i < prepared.length; i += chunk) n += await write(prepared.slice(i, i + chunk));
      return n;
    }
    if (isAsyncIterable(rows) || (typeof rows === 'object' && rows !== null && Symbol.iterator in rows)) {
      const batchRows = chunk === Infinity ? 10_000 : chunk;
      const consume = async (perBatch: (p: PreparedRow[]) => Promise<number>) => {
        let n = 0;
        let batch: PreparedRow[] = [];
        for await (const r of rows as AsyncIterable<RowInput>) {
          batch.push(await preparer.prepare(r));
          if (batch.length >= batchRows) {
            n += await perBatch(batch);
            batch = [];
          }
        }
        if (batch.length) n += await perBatch(batch);
        return n;
      };
      // Without chunkSize the whole stream is one transaction: a failure midway undoes it all.
      return chunk === Infinity ? inTx(() => consume(write)) : consume(write);
    }
    throw new DataJointError('insert expects an array of rows (objects or arrays), an Arrow table, an async iterable, or a query expression');
  }

  async insert1(row: RowInput, opts: InsertOptions = {}): Promise<number> {
    if (row === null || typeof row !== 'object') throw new DataJointError('insert1 expects one row (an object or an array)');
    return this.insert([row], opts);
  }

  /** @internal */

  checkDirectInsert(opts: InsertOptions): void {
    const tier = this.tier;
    let t: typeof Table = this.constructor as typeof Table;
    const effective = tier === 'part' && t._master ? t._master.tier : tier;
    if (effective !== 'computed' && effective !== 'imported') return;
    if (opts.allowDirectInsert) return;
    const ctx = populateContext.getStore();
    if (tier === 'part' && t._master) t = t._master;
    if (ctx?.tables.has(this.database + '.' + t.tableName)) return;
    throw new DataJointError(
      `Direct insert into auto-populated table ${this.fullTableName} is not allowed: its rows are computed by populate(). Pass { allowDirectInsert: true } to override.`,
    );
  }

  /** @internal */

  async insertFromQuery(expr: QueryExpression, heading: Heading, policy: 'error' | 'skip' | 'replace', opts: InsertOptions): Promise<number> {
    const state = await expr.compileState();
    const names = state.heading.names.filter((n) => {
      if (heading.has(n)) return true;
      if (opts.ignoreExtraFields) return false;
      throw new UnknownAttributeError(`Attribute \`${n}\` of the query is not in ${this.fullTableName}`);
    });
    for (const a of heading.all) {
      if (!names.includes(a.name) && a.default === null && !a.nullable && !a.autoIncrement)
        throw new MissingAttributeError(`The query does not provide attribute \`${a.name}\`, which has no default`);
    }
    const dialect = this.connection.dialect;
    const { head, tail } = dialect.insertStatement(this.fullTableName, names, policy, heading.primaryKey);
    // Wrap as a derived table so inserting into a table the query reads from is allowed.
    const select = `SELECT * FROM (${selectSql(state, dialect, names)}) AS \`$ins\``;
    const sql = head.replace(/ VALUES $/, ' ') + select + tail;
    const run = () => this.connection.execute(sql).then((r) => r.affectedRows);
    return this.connection.inTransaction ? run() : this.connection.transaction(run);
  }

  // ---- validate / update ----
  async validate(rows: unknown, opts: InsertOptions = {}): Promise<ValidationResult> {
    const heading = await this.tableHeading();
    const preparer = new RowPreparer(heading, opts);
    const arr = inMemoryRows(rows) ?? (rows && typeof rows === 'object' ? [rows as RowInput] : []);
    const errors: ValidationResult['errors'] = [];
    for (let i = 0; i < arr.length; i++) {
      try {
        await preparer.prepare(arr[i]!);
      } catch (err) {
        const message = (err as Error).message;
        const field = /`([^`]+)`/.exec(message)?.[1] ?? null;
        errors.push({ row: i, field, message });
      }
    }
    return { isValid: errors.length === 0, errors };
  }

  /** Update secondary attributes of one existing row identified by its full primary key. */
  async update1(row: Record<string, unknown>): Promise<number> {
    if (this.isRestricted) throw new DataJointError('update1 cannot be applied to a restricted table: pass the full primary key in the row');
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new DataJointError('update1 expects one row as an object');
    const heading = await this.tableHeading();
    const pk = heading.primaryKey;
    for (const k of pk) if (!(k in row)) throw new MissingAttributeError(`update1: the row must include the primary key attribute \`${k}\``);
    const sets: string[] = [];
    const dialect = this.connection.dialect;
    const key = Object.fromEntries(pk.map((k) => [k, row[k]]));
    for (const [k, v] of Object.entries(row)) {
      const a = heading.get(k);
      if (!a) throw new UnknownAttributeError(`Attribute \`${k}\` is not in ${this.fullTableName}`);
      if (a.inKey) continue;
      const value = v === undefined ? undefined : await encodeValue(a, v, key);
      sets.push(`${dialect.quoteId(k)}=${value === undefined ? 'DEFAULT' : dialect.literal(value)}`);
    }
    if (sets.length === 0) throw new DataJointError('update1: no secondary attributes to update');
    const where = pk.map((k) => `${dialect.quoteId(k)}=${dialect.literal(encodeScalar(heading.get(k)!, row[k]))}`).join(' AND ');
    const exists = await this.connection.query(`SELECT COUNT(*) AS n FROM ${this.fullTableName} WHERE ${where}`);
    if (Number(exists[0]!.n) !== 1) throw new DataJointError(`update1: no row with key ${JSON.stringify(key, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))} in ${this.fullTableName}`);
    const r = await this.connection.execute(`UPDATE ${this.fullTableName} SET ${sets.join(',')} WHERE ${where}`);
    return r.affectedRows;
  }

  // ---- delete ----
  /** Delete the rows of this (restricted) table without cascading; returns the count. */
  async deleteQuick(): Promise<number> {
    const where = (await this.materializedCondition()).join(' AND ');
    return (await this.connection.execute(`DELETE FROM ${this.fullTableName} WHERE ${where}`)).affectedRows;
  }

  /**
   * Delete the rows of this table and, in one transaction, every dependent row downstream
   * (children before parents). Returns the number of rows deleted from this table.
   */
  async delete(opts: DeleteOptions = {}): Promise<number> {
    await this.declare();
    const conn = this.connection;
    const partIntegrity = opts.partIntegrity ?? 'enforce';
    if (!['enforce', 'ignore', 'cascade'].includes(partIntegrity)) throw new DataJointError(`partIntegrity must be 'enforce', 'ignore' or 'cascade'`);
    const prompt = (opts.prompt ?? Boolean(config.get('safemode'))) && process.stdin.isTTY === true && process.stdout.isTTY === true;
    const self: TableId = { database: this.database, name: this.tableName };

    const run = async (): Promise<number> => {
      const roots = new Map<string, { id: TableId; conds: string[] }>();
      roots.set(tableKey(self), { id: self, conds: await this.materializedCondition() });
      let plan: Map<string, { id: TableId; conds: string[] }>;
      let order: TableId[];
      for (;;) {
        ({ plan, order } = await this.cascadePlan(roots));
        const added = await this.checkPartIntegrity(plan, partIntegrity);
        if (!added.length) break;
        for (const m of added) {
          const k = tableKey(m.id);
          const existing = roots.get(k);
          if (existing) existing.conds.push(...m.conds);
          else roots.set(k, m);
        }
      }
      const counts = new Map<string, number>();
      for (const t of [...order].reverse()) {
        const p = plan.get(tableKey(t));
        if (!p || !p.conds.length) continue;
        const where = p.conds.length === 1 ? p.conds[0]! : p.conds.map((c) => `(${c})`).join(' OR ');
        const r = await conn.execute(`DELETE FROM ${conn.dialect.fullName(t.database, t.name)} WHERE ${where}`);
        counts.set(tableKey(t), r.affectedRows);
      }
      if (prompt) {
        for (const [k, n] of counts) if (n) process.stdout.write(`Deleting ${n} rows from ${k}\n`);
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        const answer = (await rl.question('Commit deletes? [yes, No]: ')).trim().toLowerCase();
        rl.close();
        if (answer !== 'yes') throw new DeleteCancelled();
      }
      return counts.get(tableKey(self)) ?? 0;
    };
    try {
      if (opts.transaction === false || conn.inTransaction) return await (opts.transaction === false ? run() : conn.transaction(run));
      return await conn.transaction(run);
    } catch (err) {
      if (err instanceof DeleteCancelled) {
        process.stdout.write('Delete cancelled; nothing was deleted.\n');
        return 0;
      }
      throw err;
    }
  }

  /**
   * The restriction of this table as SQL that refers only to this table's own columns
   * (a restriction by another query is materialized into key literals first, so deleting
   * descendants cannot change which rows it selects).
   */
  /** @internal */
  async materializedCondition(): Promise<string[]> {
    const state = await this.compileState();
    // The WHERE applies to the table itself only when the state still selects from it directly
    // (a Top, or a restriction after one, turns it into a subquery).
    const direct = state.from === this.fullTableName && !state.top && !state.groupBy;
    const simple = direct && this._restrictions.every((r) => typeof r.condition === 'string' || typeof r.condition === 'boolean' || (typeof r.condition === 'object' && r.condition !== null && (r.condition.constructor === Object)));
    if (simple) return [state.where.length ? state.where.join(' AND ') : 'TRUE'];
    const keys = await this.keys();
    return [keysCondition(this.connection, state.heading, keys)];
  }

  /** Restrictions of every table reached by cascading from the roots, in topological order. */
  /** @internal */
  async cascadePlan(roots: Map<string, { id: TableId; conds: string[] }>) {
    const conn = this.connection;
    const d = conn.dialect;
    const order = await descendants(conn, [...roots.values()].map((r) => r.id), false);
    const plan = new Map<string, { id: TableId; conds: string[] }>();
    for (const [k, r] of roots) plan.set(k, { id: r.id, conds: [...r.conds] });
    for (const t of order) {
      const p = plan.get(tableKey(t));
      if (!p || !p.conds.length) continue;
      const where = p.conds.length === 1 ? p.conds[0]! : p.conds.map((c) => `(${c})`).join(' OR ');
      for (const fk of await childrenOf(conn, t)) {
        const child: TableId = { database: fk.childDatabase, name: fk.childTable };
        const ck = tableKey(child);
        if (ck === tableKey(t)) continue;
        const childCols = fk.attrMap.map(([c]) => d.quoteId(c));
        const parentCols = fk.attrMap.map(([, pc]) => d.quoteId(pc));
        // Derived table: materialized, so MySQL allows it even when the child is the delete target.
        const cond = `(${childCols.join(',')}) IN (SELECT * FROM (SELECT ${parentCols.join(',')} FROM ${d.fullName(t.database, t.name)} WHERE ${where}) AS ${d.quoteId('$' + fk.name)})`;
        if (!plan.has(ck)) plan.set(ck, { id: child, conds: [] });
        plan.get(ck)!.conds.push(cond);
      }
    }
    return { plan, order };
  }

  /**
   * Part integrity: rows of a part may be deleted only together with their master rows.
   * Returns master restrictions to add for 'cascade'; throws for 'enforce'.
   */
  /** @internal */
  async checkPartIntegrity(plan: Map<string, { id: TableId; conds: string[] }>, mode: 'enforce' | 'ignore' | 'cascade') {
    if (mode === 'ignore') return [];
    const conn = this.connection;
    const d = conn.dialect;
    const add: Array<{ id: TableId; conds: string[] }> = [];
    for (const { id, conds } of plan.values()) {
      const master = masterOf(id);
      if (!master || !conds.length) continue;
      const masterPlan = plan.get(tableKey(master));
      const masterPk = (await conn.adapter.columns(master.database, master.name)).filter((c) => c.inKey).map((c) => d.quoteId(c.name));
      const where = conds.map((c) => `(${c})`).join(' OR ');
      let sql = `SELECT DISTINCT ${masterPk.join(',')} FROM ${d.fullName(id.database, id.name)} WHERE (${where})`;
      if (masterPlan?.conds.length)
        sql += ` AND (${masterPk.join(',')}) NOT IN (SELECT ${masterPk.join(',')} FROM ${d.fullName(master.database, master.name)} WHERE ${masterPlan.conds.map((c) => `(${c})`).join(' OR ')})`;
      const orphans = await conn.query(sql + ' LIMIT 100000');
      if (!orphans.length) continue;
      if (mode === 'enforce')
        throw new IntegrityError(
          `Cannot delete rows of part table ${d.fullName(id.database, id.name)} without their master rows in ${d.fullName(master.database, master.name)}. Delete from the master, or pass partIntegrity: 'cascade' (also delete the masters) or 'ignore'.`,
        );
      // Values as the driver returned them are valid SQL literals for the same columns.
      const names = Object.keys(orphans[0]!);
      add.push({ id: master, conds: [tuplesCondition(d, names, orphans.map((r) => names.map((n) => r[n] as SqlValue)))] });
    }
    return add;
  }

  // ---- drop ----
  async drop(opts: DropOptions = {}): Promise<void> {
    if (this.isRestricted) throw new DataJointError('drop() cannot be applied to a restricted table');
    const ctor = this.constructor as typeof Table;
    if (ctor.tier === 'part' && (opts.partIntegrity ?? 'enforce') === 'enforce')
      throw new DataJointError(`Cannot drop part table ${this.fullTableName} alone: drop its master ${ctor._master?.name ?? ''} instead (or pass partIntegrity: 'ignore')`);
    await this.declare();
    await dropTables(this.connection, [{ database: this.database, name: this.tableName }], opts.prompt, ctor.schema);
  }

  // ---- describe ----
  /** Definition text equivalent to the table as declared. */
  async describe(): Promise<string> {
    const heading = await this.tableHeading();
    const conn = this.connection;
    const comment = (await conn.adapter.listTables(this.database)).find((t) => t.name === this.tableName)?.comment ?? '';
    const fks = await conn.adapter.foreignKeys(this.database, this.tableName);
    const indexes = await conn.adapter.indexes(this.database, this.tableName);
    const ctor = this.constructor as typeof Table;
    const lines: string[] = [];
    if (comment) lines.push(`# ${comment}`);
    const fkOf = new Map<string, (typeof fks)[number]>();
    for (const fk of fks) for (const [c] of fk.attrMap) if (!fkOf.has(c)) fkOf.set(c, fk);
    const emitted = new Set<string>();
    const master = masterOf({ database: this.database, name: this.tableName });
    let separator = false;
    for (const a of heading.all) {
      if (a.isHidden) continue;
      if (!a.inKey && !separator) {
        lines.push('---');
        separator = true;
      }
      const fk = fkOf.get(a.name);
      if (fk) {
        if (emitted.has(fk.name)) continue;
        emitted.add(fk.name);
        const isMaster = this.tier === 'part' && master && fk.parentTable === master.name && fk.parentDatabase === master.database;
        let ref = isMaster ? 'master' : this.schemaOrNull()?.classNameOf(fk.parentDatabase, fk.parentTable) ?? toCamelCaseName(fk.parentTable);
        if (!isMaster && fk.parentDatabase !== this.database) ref = `${fk.parentDatabase}.${ref}`;
        const renames = fk.attrMap.filter(([c, p]) => c !== p);
        if (renames.length) ref += `.proj(${renames.map(([c, p]) => `${c}='${p}'`).join(', ')})`;
        const opts: string[] = [];
        if (fk.attrMap.some(([c]) => heading.get(c)?.nullable)) opts.push('nullable');
        const fkCols = fk.attrMap.map(([c]) => c).join(',');
        if (indexes.some((i) => i.unique && i.name !== 'PRIMARY' && i.columns.join(',') === fkCols)) opts.push('unique');
        lines.push(`-> ${opts.length ? `[${opts.join(', ')}] ` : ''}${ref}`);
        continue;
      }
      const dflt = a.nullable ? ' = null' : a.default !== null ? ` = ${a.default}` : '';
      lines.push(`${a.name}${dflt} : ${a.type}${a.comment ? `  # ${a.comment}` : ''}`);
    }
    for (const idx of indexes) {
      if (idx.name === 'PRIMARY') continue;
      const cols = idx.columns.join(',');
      // Indexes MySQL creates for foreign keys are implied by the -> lines.
      if (!idx.unique && fks.some((fk) => fk.attrMap.map(([c]) => c).join(',') === cols || fk.name === idx.name)) continue;
      if (idx.unique && fks.some((fk) => fk.attrMap.map(([c]) => c).join(',') === cols)) continue;
      lines.push(`${idx.unique ? 'unique ' : ''}index(${idx.columns.join(', ')})`);
    }
    return lines.join('\n') + '\n';
  }

  // ---- static mirrors: T.restrict(...) ≡ new T().restrict(...) ----
  static restrict<T extends Table>(this: new () => T, condition: unknown, opts?: { semanticCheck?: boolean }): T {
    return new this().restrict(condition, opts);
  }
  static minus<T extends Table>(this: new () => T, condition: unknown, opts?: { semanticCheck?: boolean }): T {
    return new this().minus(condition, opts);
  }
  static insert(this: new () => Table, rows: unknown, opts?: InsertOptions): Promise<number> {
    return new this().insert(rows, opts);
  }
  static insert1(this: new () => Table, row: RowInput, opts?: InsertOptions): Promise<number> {
    return new this().insert1(row, opts);
  }
  static update1(this: new () => Table, row: Record<string, unknown>): Promise<number> {
    return new this().update1(row);
  }
  static validate(this: new () => Table, rows: unknown, opts?: InsertOptions): Promise<ValidationResult> {
    return new this().validate(rows, opts);
  }
  static delete(this: new () => Table, opts?: DeleteOptions): Promise<number> {
    return new this().delete(opts);
  }
  static deleteQuick(this: new () => Table): Promise<number> {
    return new this().deleteQuick();
  }
  static drop(this: new () => Table, opts?: DropOptions): Promise<void> {
    return new this().drop(opts);
  }
  static describe(this: new () => Table): Promise<string> {
    return new this().describe();
  }
  static declare(this: new () => Table): Promise<void> {
    return new this().declare();
  }
  static heading(this: new () => Table): Promise<Heading> {
    return new this().heading();
  }
  static toDicts(this: new () => Table, opts?: import('../fetch/fetch.js').FetchOptions): Promise<Row[]> {
    return new this().toDicts(opts);
  }
  static toArrays(this: new () => Table, ...args: Array<string | import('../fetch/fetch.js').FetchOptions>) {
    return new this().toArrays(...args);
  }
  static keys(this: new () => Table, opts?: import('../fetch/fetch.js').FetchOptions): Promise<Row[]> {
    return new this().keys(opts);
  }
  static fetch1(this: new () => Table): Promise<Row>;
  static fetch1(this: new () => Table, attr: string): Promise<unknown>;
  static fetch1(this: new () => Table, attr1: string, attr2: string, ...more: string[]): Promise<unknown[]>;
  static fetch1(this: new () => Table, ...attrs: string[]): Promise<unknown> {
    return (new this().fetch1 as (...a: string[]) => Promise<unknown>)(...attrs);
  }
  static count(this: new () => Table): Promise<number> {
    return new this().count();
  }
  static join(this: new () => Table, other: Operand, opts?: JoinOptions): QueryExpression {
    return new this().join(other, opts);
  }
  static extend(this: new () => Table, other: Operand, opts?: RestrictOptions): QueryExpression {
    return new this().extend(other, opts);
  }
  static proj(this: new () => Table, ...args: ProjArg[]): QueryExpression {
    return new this().proj(...args);
  }
  static aggr(this: new () => Table, group: Operand, ...args: AggrArg[]): QueryExpression {
    return new this().aggr(group, ...args);
  }
  static union(this: new () => Table, other: Operand): QueryExpression {
    return new this().union(other);
  }
  static toArrow(this: new () => Table, opts?: ArrowOptions): Promise<ArrowTable> {
    return new this().toArrow(opts);
  }
  static arrowBatches(this: new () => Table, opts?: ArrowOptions): AsyncIterable<RecordBatch> {
    return new this().arrowBatches(opts);
  }
  static iterate(this: new () => Table, opts?: import('../fetch/fetch.js').FetchOptions): AsyncIterable<Row> {
    return new this().iterate(opts);
  }
  static preview(this: new () => Table, opts?: { limit?: number; width?: number }): Promise<string> {
    return new this().preview(opts);
  }
  static isEmpty(this: new () => Table): Promise<boolean> {
    return new this().isEmpty();
  }
  /** `for await (const row of Subject)` streams the table's rows. */
  static [Symbol.asyncIterator](this: new () => Table): AsyncIterator<Row> {
    return new this()[Symbol.asyncIterator]();
  }
  static sql(this: new () => Table): Promise<string> {
    return new this().sql();
  }
}

class DeleteCancelled extends Error {}

/** `(pk) IN ((...),(...))` for a list of key rows (FALSE when empty). */
export function keysCondition(conn: Connection, heading: Heading, keys: Row[]): string {
  const pk = heading.primaryKey;
  const encoded = keys.map((r) => pk.map((k) => encodeScalar({ ...heading.get(k)!, nullable: true }, r[k])));
  return tuplesCondition(conn.dialect, pk, encoded);
}

/**
 * `cols` equal to one of the value tuples (already SQL values). Not `(a,b) IN ((…))`: MariaDB
 * does not use an index for row-constructor IN lists, so it would scan (and lock, in UPDATE or
 * DELETE) every row. A single column's IN list, or an OR of equalities, is a range read.
 */
export function tuplesCondition(d: Dialect, cols: string[], tuples: SqlValue[][]): string {
  if (!tuples.length) return 'FALSE';
  if (cols.length === 1) return `${d.quoteId(cols[0]!)} IN (${tuples.map((t) => d.literal(t[0]!)).join(',')})`;
  const one = (t: SqlValue[]) => cols.map((c, i) => `${d.quoteId(c)}=${d.literal(t[i]!)}`).join(' AND ');
  return tuples.length === 1 ? one(tuples[0]!) : `(${tuples.map((t) => `(${one(t)})`).join(' OR ')})`;
}

/** Drop tables with everything that depends on them (parts included), children first. */
export async function dropTables(conn: Connection, roots: TableId[], promptOpt: boolean | undefined, schema?: SchemaLike): Promise<TableId[]> {
  const all = await descendants(conn, roots, true);
  const prompt = (promptOpt ?? Boolean(config.get('safemode'))) && process.stdin.isTTY === true && process.stdout.isTTY === true;
  if (prompt) {
    for (const t of all) process.stdout.write(`${conn.dialect.fullName(t.database, t.name)}\n`);
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = (await rl.question('Proceed to drop these tables? [yes, No]: ')).trim().toLowerCase();
    rl.close();
    if (answer !== 'yes') {
      process.stdout.write('Drop cancelled.\n');
      return [];
    }
  }
  for (const t of [...all].reverse()) {
    await conn.execute(`DROP TABLE IF EXISTS ${conn.dialect.fullName(t.database, t.name)}`);
  }
  const byDb = new Map<string, string[]>();
  for (const t of all) byDb.set(t.database, [...(byDb.get(t.database) ?? []), t.name]);
  for (const [db, names] of byDb) {
    if (schema && schema.database === db) {
      await schema.forgetTables(names);
    } else {
      await conn
        .execute(`DELETE FROM ${conn.dialect.fullName(db, '~lineage')} WHERE table_name IN (${names.map((n) => conn.dialect.literal(n)).join(',')})`)
        .catch(() => {});
    }
  }
  freeHeadings.get(conn)?.clear();
  return all;
}

// Table classes work as operands wherever an expression does.
operandResolver.toExpression = (x: unknown) => {
  if (x instanceof QueryExpression) return x;
  if (typeof x === 'function' && (x as typeof Table).prototype instanceof Table) return new (x as new () => Table)();
  return null;
};

export { freeHeadings };

function toCamelCaseName(sqlName: string): string {
  return parseTableName(sqlName)?.className ?? sqlName;
}

/**
 * Tables: the base class of the user's table classes (Manual, Lookup, Imported, Computed, Part)
 * and of FreeTable. A table is a query expression whose FROM is the table itself; restricting
 * it keeps it a table, so delete/fetch1 work on the restricted set. The operations live in
 * their own modules (write, delete, drop, describe, alter, dependencies); this class is their
 * user-facing surface. It is long only because every operation has an instance method and a
 * static mirror (`T.restrict(...)` ≡ `new T().restrict(...)`, API.md §2); no logic lives here.
 */
import { DataJointError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import { QueryExpression, type AggrArg, type Operand, type ProjArg, type RestrictOptions } from '../expression/expression.js';
import type { JoinOptions } from '../expression/join.js';
import type { ArrowOptions } from '../fetch/arrow.js';
import type { RecordBatch, Table as ArrowTable } from 'apache-arrow';
import type { State } from '../expression/state.js';
import type { InsertOptions, RowInput } from './row-preparer.js';
import { type TierName, TIER_PREFIX, toSnakeCase } from './names.js';
import type { ArraysOptions, Column, Fetch1Options, Row } from '../fetch/fetch.js';
import { type ValidationResult, insert, update1, validate, type WriteTarget } from './write.js';
import { type DeleteOptions, deleteCascade, deleteQuick } from './delete.js';
import { type DropOptions, checkDropOptions, dropTables, freeHeadings } from './drop.js';
import { describeTable } from './describe.js';
import { type AlterOptions, alterClassTable } from './alter.js';
import { threadRegistry } from '../schema/registry.js';
import type { TableId } from './graph.js';
import { type DependencyOptions, type DependencyResult, ancestorsOf, childrenOfTable, dependencyResult, descendantsOf, parentsOf, partsOfTable } from './dependencies.js';

export type { InsertOptions } from './row-preparer.js';
export type { DeleteOptions } from './delete.js';
export type { ValidationResult } from './write.js';
export type { DependencyOptions, DependencyResult } from './dependencies.js';
export type { AlterOptions } from './alter.js';
export { populateContext } from './write.js';
export { keysCondition, tuplesCondition } from './keys.js';
export { dropTables, freeHeadings };
export type { DropOptions } from './drop.js';

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
  /** A class's current definition compiled against the schema (for alter()). */
  compile?(cls: TableClass): Promise<import('../declare/compile.js').CompiledTable>;
}

export type TableClass<T extends Table = Table> = (new () => T) & typeof Table & DeclaredTable;

/** The statics a user's table class declares. */
export interface DeclaredTable {
  /** Definition text in the DataJoint definition language. */
  definition?: string;
  /** Lookup contents: arrays in heading order, or objects. */
  contents?: unknown[];
}

const tableIdOf = (t: Table): TableId => ({ database: t.database, name: t.tableName });

/** SQL names computed from class names (a part's name also depends on its master). */
const tableNames = new WeakMap<object, { master: unknown; name: string }>();

export class Table extends QueryExpression {
  // `static definition` (and `contents` for lookups) are declared by user classes, not here, so
  // that they need no `override` under noImplicitOverride. They are read lazily at
  // declaration (decorators run before static fields); see DeclaredTable.
  static tier: TierName = 'manual';
  static _schema?: SchemaLike;
  /**
   * A part's master. Declaration attaches it; a part used before its master was touched (a
   * class decorator runs before static fields exist, so registration cannot see the parts)
   * finds it among the classes registered in this thread, once.
   */
  static get _master(): TableClass | undefined {
    if (this.tier !== 'part') return undefined;
    const master = threadRegistry().findMaster(this);
    if (master) Object.defineProperty(this, '_master', { value: master, writable: true, configurable: true, enumerable: false });
    return master;
  }
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


  get masterInfo(): WriteTarget['masterInfo'] {
    const m = (this.constructor as typeof Table)._master;
    return m ? { tier: m.tier, tableName: m.tableName } : null;
  }

  // ---- changing data (write.ts, delete.ts, drop.ts) ----
  /** Insert rows (objects, arrays in heading order, an Arrow table, an async iterable, or a query). */
  insert(rows: unknown, opts: InsertOptions = {}): Promise<number> {
    return insert(this, rows, opts);
  }
  /** Insert one row. */
  async insert1(row: RowInput, opts: InsertOptions = {}): Promise<number> {
    if (row === null || typeof row !== 'object') throw new DataJointError('insert1 expects one row (an object or an array)');
    return insert(this, [row], opts);
  }
  /** Check rows without writing anything. */
  validate(rows: unknown, opts: InsertOptions = {}): Promise<ValidationResult> {
    return validate(this, rows, opts);
  }
  /** Update secondary attributes of one existing row identified by its full primary key. */
  update1(row: Record<string, unknown>): Promise<number> {
    return update1(this, row);
  }
  /**
   * Write large objects (Zarr through `staged.store(field, ext)`, files through
   * `staged.open(field, ext)`) straight to the store, then insert `staged.rec`; on failure the
   * objects are removed and no row is inserted. `opts` are insert1's (e.g. `allowDirectInsert`).
   * Returns what `fn` returns.
   */
  async stagedInsert1<R>(fn: (staged: import('../objects/staged-insert.js').StagedInsert) => Promise<R> | R, opts: InsertOptions = {}): Promise<R> {
    const { stagedInsert1 } = await import('../objects/staged-insert.js');
    const ctor = this.constructor as typeof Table;
    // Paths use the class name (DataJoint Python's class_name); a FreeTable has only its SQL name.
    const className = ctor.name && ctor.name !== 'FreeTable' && ctor !== Table ? ctor.name : this.tableName;
    return stagedInsert1({ database: this.database, className, connection: this.connection, tableHeading: () => this.tableHeading(), insert1: (row) => this.insert1(row, opts) }, fn);
  }
  /** Delete the rows of this (restricted) table without cascading; returns the count. */
  deleteQuick(): Promise<number> {
    return deleteQuick(this);
  }
  /** Delete the rows of this table and everything downstream, in one transaction; returns the rows deleted here. */
  delete(opts: DeleteOptions = {}): Promise<number> {
    return deleteCascade(this, opts);
  }
  /** Drop the table with its parts and every table that depends on it. */
  async drop(opts: DropOptions = {}): Promise<void> {
    if (this.isRestricted) throw new DataJointError('drop() cannot be applied to a restricted table');
    const partIntegrity = checkDropOptions(opts);
    const ctor = this.constructor as typeof Table;
    if (this.tier === 'part' && partIntegrity === 'enforce')
      throw new DataJointError(`Cannot drop part table ${this.fullTableName} alone: drop its master ${ctor._master?.name ?? ''} instead (or pass partIntegrity: 'ignore')`);
    await this.declare();
    await dropTables(this.connection, [{ database: this.database, name: this.tableName }], opts.prompt, this.schemaOrNull() ?? undefined);
  }
  // ---- dependencies (dependencies.ts): full table names, or FreeTables with asObjects ----
  /** Tables this table references (one entry per foreign key). */
  async parents<O extends DependencyOptions = DependencyOptions>(opts?: O): Promise<DependencyResult<O>> {
    await this.declare();
    return dependencyResult(this.connection, await parentsOf(this.connection, tableIdOf(this), opts?.primary), opts);
  }
  /** Tables that reference this table (one entry per foreign key). */
  async children<O extends DependencyOptions = DependencyOptions>(opts?: O): Promise<DependencyResult<O>> {
    await this.declare();
    return dependencyResult(this.connection, await childrenOfTable(this.connection, tableIdOf(this), opts?.primary), opts);
  }
  /** This table, then every table it depends on (reverse topological order, as DataJoint Python). */
  async ancestors<O extends DependencyOptions = DependencyOptions>(opts?: O): Promise<DependencyResult<O>> {
    await this.declare();
    return dependencyResult(this.connection, await ancestorsOf(this.connection, tableIdOf(this)), opts);
  }
  /** This table, then every table that depends on it (topological order, parts after masters). */
  async descendants<O extends DependencyOptions = DependencyOptions>(opts?: O): Promise<DependencyResult<O>> {
    await this.declare();
    return dependencyResult(this.connection, await descendantsOf(this.connection, tableIdOf(this)), opts);
  }
  /** The part tables of this (master) table. */
  async parts<O extends DependencyOptions = DependencyOptions>(opts?: O): Promise<DependencyResult<O>> {
    await this.declare();
    return dependencyResult(this.connection, await partsOfTable(this.connection, tableIdOf(this)), opts);
  }

  /**
   * Bring the table's secondary attributes and comment in line with the class's current
   * definition (add, drop, change; rename with `{old_name}` at the start of the new comment),
   * showing the SQL first unless `prompt: false`. Returns the statements run.
   */
  alter(opts: AlterOptions = {}): Promise<string[]> {
    return alterClassTable(this, this.schemaOrNull(), this.constructor as TableClass, opts);
  }

  /** Definition text equivalent to the table as declared. */
  describe(): Promise<string> {
    const schema = this.schemaOrNull();
    return describeTable({
      connection: this.connection,
      database: this.database,
      tableName: this.tableName,
      tier: this.tier,
      tableHeading: () => this.tableHeading(),
      classNameOf: schema ? (db, t) => schema.classNameOf(db, t) : undefined,
    });
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
  static stagedInsert1<R>(this: new () => Table, fn: (staged: import('../objects/staged-insert.js').StagedInsert) => Promise<R> | R, opts?: InsertOptions): Promise<R> {
    return new this().stagedInsert1(fn, opts);
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
  static parents<O extends DependencyOptions = DependencyOptions>(this: new () => Table, opts?: O): Promise<DependencyResult<O>> {
    return new this().parents(opts);
  }
  static children<O extends DependencyOptions = DependencyOptions>(this: new () => Table, opts?: O): Promise<DependencyResult<O>> {
    return new this().children(opts);
  }
  static ancestors<O extends DependencyOptions = DependencyOptions>(this: new () => Table, opts?: O): Promise<DependencyResult<O>> {
    return new this().ancestors(opts);
  }
  static descendants<O extends DependencyOptions = DependencyOptions>(this: new () => Table, opts?: O): Promise<DependencyResult<O>> {
    return new this().descendants(opts);
  }
  static parts<O extends DependencyOptions = DependencyOptions>(this: new () => Table, opts?: O): Promise<DependencyResult<O>> {
    return new this().parts(opts);
  }
  static alter(this: new () => Table, opts?: AlterOptions): Promise<string[]> {
    return new this().alter(opts);
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
  static toArrays(this: new () => Table, opts?: ArraysOptions): Promise<Record<string, Column>>;
  static toArrays(this: new () => Table, attr: string, opts: ArraysOptions & { includeKey: true }): Promise<[Row[], Column]>;
  static toArrays(this: new () => Table, attr: string, opts?: ArraysOptions): Promise<Column>;
  static toArrays(this: new () => Table, attr1: string, attr2: string, ...more: Array<string | ArraysOptions>): Promise<Column[]>;
  static toArrays(this: new () => Table, ...args: Array<string | ArraysOptions>): Promise<Record<string, Column> | Column | Column[]>;
  static toArrays(this: new () => Table, ...args: Array<string | ArraysOptions | undefined>): Promise<Record<string, Column> | Column | Column[]> {
    return (new this().toArrays as (...a: Array<string | ArraysOptions | undefined>) => Promise<Record<string, Column> | Column | Column[]>)(...args);
  }
  static head(this: new () => Table, n?: number, opts?: import('../fetch/fetch.js').FetchOptions): Promise<Row[]> {
    return new this().head(n, opts);
  }
  static tail(this: new () => Table, n?: number, opts?: import('../fetch/fetch.js').FetchOptions): Promise<Row[]> {
    return new this().tail(n, opts);
  }
  static keys(this: new () => Table, opts?: import('../fetch/fetch.js').FetchOptions): Promise<Row[]> {
    return new this().keys(opts);
  }
  static fetch1(this: new () => Table, opts?: Fetch1Options): Promise<Row>;
  static fetch1(this: new () => Table, attr: string, opts?: Fetch1Options): Promise<unknown>;
  static fetch1(this: new () => Table, attr1: string, attr2: string, ...more: Array<string | Fetch1Options>): Promise<unknown[]>;
  static fetch1(this: new () => Table, ...args: Array<string | Fetch1Options | undefined>): Promise<unknown> {
    return (new this().fetch1 as (...a: Array<string | Fetch1Options | undefined>) => Promise<unknown>)(...args);
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


/**
 * Schema: a database plus the table classes registered on it (API.md §2). Registration is
 * synchronous; declaration is lazy (declare.ts), lineage lives in lineage.ts, and virtual
 * schemas in virtual.ts.
 *
 * A schema made without a name is deferred, as DataJoint Elements write theirs: classes are
 * registered on it, nothing touches a database, and every use other than registering throws
 * until `activate(name, ...)` binds it. Activation is the one point where an Element's tables
 * meet a database and the linking module that provides their upstream (`-> Subject`) classes.
 */
import { DataJointError, IntegrityError, MissingTableError } from '../errors.js';
import { type Connection, conn as sharedConn, onBeforeTransaction } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import type { SchemaLike, TableClass } from '../table/table.js';
import { FreeTable } from '../table/free-table.js';
import { Part } from '../table/tiers.js';
import { HeadingCache } from '../table/heading-cache.js';
import { parseTableName } from '../table/names.js';
import { confirm, shouldPrompt } from '../table/prompt.js';
import { noteDrop } from '../table/drop-generation.js';
import { Declarer, declaring, isTableClass, partsOfClass } from './declare.js';
import type { CompiledTable } from '../declare/compile.js';
import { forgetLineage, readSchemaLineage, rebuildLineage } from './lineage.js';
import { threadRegistry } from './registry.js';

import type { PopulateOptions, PopulateResult } from '../populate/populate.js';

export { partsOfClass } from './declare.js';

export interface SchemaOptions {
  /** The connection to use (default: the shared `dj.conn()`). */
  connection?: Connection;
  /** Classes or modules for resolving `-> name` references: `{ lab }` allows `-> lab.Subject`. */
  context?: Record<string, unknown>;
  /** `import.meta.url` of the module defining the tables (lets worker threads import it). */
  module?: string;
  /** Create the database if missing (default true). */
  createSchema?: boolean;
  /** Declare missing tables (default true). With `false` nothing is created or filled in (no lookup contents): the tables must exist. */
  createTables?: boolean;
}

/** Options of `schema.activate(name, options)`; unset ones keep the schema's own. */
export interface ActivateOptions {
  /**
   * Where `-> Name` references that are not on this schema are looked up: an object or module
   * namespace holding the upstream classes the Element expects, e.g. `{ Subject, Session }` or
   * `import * as lab from './lab.js'` (read when a table is declared, so later exports count).
   */
  linkingModule?: object;
  /** Create the database if missing (default true). */
  createSchema?: boolean;
  /** Declare the tables now (default true). With `false` nothing is created or filled in (no lookup contents): the tables must exist. */
  createTables?: boolean;
  /** The connection to use (default: the shared `dj.conn()`). */
  connection?: Connection;
  /**
   * `import.meta.url` of the module that activates this schema when imported: the module that
   * `populate({ processes: N })` worker threads import.
   */
  module?: string;
}

const SCHEMA_NAME = /^[A-Za-z0-9_$-]{1,64}$/;

function checkName(database: unknown): string {
  if (typeof database !== 'string' || !SCHEMA_NAME.test(database)) throw new DataJointError(`Invalid schema name ${JSON.stringify(database)}`);
  return database;
}

/** Schemas with registered classes not declared yet (declared before the next transaction). */
const undeclared = new Set<Schema>();
onBeforeTransaction(async (conn) => {
  if (declaring.getStore()) return; // a declaration's own transaction: it is declaring already
  // A deferred schema waits for its activation; one with createTables: false creates nothing.
  for (const s of [...undeclared]) if (s.isActivated && s.createTables && s.connection === conn) await s.declareRegistered();
});

export class Schema implements SchemaLike {
  readonly context: Record<string, unknown>;
  #database: string | null;
  #module: string | null;
  #createSchema: boolean;
  #createTables: boolean;
  #connection: Connection | null;
  #linkingModule: Readonly<Record<string, unknown>> | null = null;
  /** Classes whose tables were dropped on purpose: declared again by their own use only. */
  #dropped = new WeakSet<TableClass>();
  /** The activation in flight or done (deferred schemas). */
  #activation: Promise<void> | null = null;
  private readonly registry = new Map<string, TableClass>();
  private readonly headings = new HeadingCache();
  private declarer: Declarer;
  #declaring: Promise<void> | null = null;

  /** A schema bound to `database`; without a name, a deferred schema to be activated later. */
  constructor(database?: string | null, opts: SchemaOptions = {}) {
    this.#database = database == null ? null : checkName(database);
    this.context = opts.context ?? {};
    this.#module = opts.module ?? null;
    this.#connection = opts.connection ?? null;
    this.#createSchema = opts.createSchema ?? true;
    this.#createTables = opts.createTables ?? true;
    this.declarer = new Declarer(this);
    if (this.#database !== null) threadRegistry().add(this);
  }

  /** The database name; throws until a deferred schema is activated. */
  get database(): string {
    if (this.#database === null) throw this.#notActivated();
    return this.#database;
  }

  /** Whether the schema is bound to a database (always, unless made by `dj.schema()` and not activated yet). */
  get isActivated(): boolean {
    return this.#database !== null;
  }

  get connection(): Connection {
    if (this.#database === null) throw this.#notActivated();
    return this.#connection ?? sharedConn();
  }

  get module(): string | null {
    return this.#module;
  }
  get createSchema(): boolean {
    return this.#createSchema;
  }
  get createTables(): boolean {
    return this.#createTables;
  }
  /** @internal Classes that resolve references not on this schema (set by activate). */
  get linkingModule(): Readonly<Record<string, unknown>> | null {
    return this.#linkingModule;
  }

  /**
   * Bind a deferred schema to `database` and declare its tables (unless `createTables: false`).
   * Activating again under the same name does nothing; under another name it throws and the
   * first binding stays. If activation fails, the schema is left unactivated.
   */
  async activate(database: string, opts: ActivateOptions = {}): Promise<void> {
    checkName(database);
    if (this.#database !== null) {
      if (this.#database !== database)
        throw new DataJointError(`Schema is already activated as \`${this.#database}\`: it cannot be activated again as \`${database}\``);
      await this.#activation;
      return;
    }
    const linking = opts.linkingModule;
    if (linking !== undefined && (linking === null || (typeof linking !== 'object' && typeof linking !== 'function')))
      throw new DataJointError('activate: linkingModule must be an object or module namespace holding the upstream table classes');
    const before = { connection: this.#connection, createSchema: this.#createSchema, createTables: this.#createTables, module: this.#module };
    this.#database = database;
    this.#connection = opts.connection ?? this.#connection;
    this.#createSchema = opts.createSchema ?? this.#createSchema;
    this.#createTables = opts.createTables ?? this.#createTables;
    this.#module = opts.module ?? this.#module;
    this.#linkingModule = (linking as Record<string, unknown> | undefined) ?? null;
    this.declarer = new Declarer(this);
    this.headings.forget();
    const activation = this.#bind().then(
      () => threadRegistry().add(this),
      (err: unknown) => {
        if (this.#activation === activation) {
          // Unbound as before, so that a retry starts from the schema's own options.
          this.#database = null;
          this.#activation = null;
          this.#linkingModule = null;
          ({ connection: this.#connection, createSchema: this.#createSchema, createTables: this.#createTables, module: this.#module } = before);
        }
        throw err;
      },
    );
    this.#activation = activation;
    await activation;
  }

  /** Make sure the database exists (creating it only when allowed), then declare every table. */
  async #bind(): Promise<void> {
    const conn = this.connection;
    const database = this.database;
    if (!(await conn.catalog.databaseExists(database))) {
      if (!this.#createTables) throw new DataJointError(`Schema \`${database}\` does not exist: with createTables: false nothing is created, so the schema and its tables must exist`);
      if (!this.#createSchema) throw new DataJointError(`Schema \`${database}\` does not exist (createSchema is off)`);
      await conn.executeAll(conn.dialect.createDatabase(database));
    }
    if (this.#createTables) await this.declare();
  }

  #notActivated(): DataJointError {
    const names = [...this.registry.keys()];
    return new DataJointError(
      `The schema must be activated before use: it was made by dj.schema() without a database name${names.length ? ` (tables ${names.join(', ')})` : ''}. Call await schema.activate('database_name', { linkingModule }) first.`,
    );
  }

  /** Register a table class (the `@schema` decorator does the same). */
  add<C extends abstract new (...args: never[]) => unknown>(cls: C): C {
    const c = cls as unknown as TableClass;
    if (!isTableClass(c)) throw new DataJointError(`schema.add expects a table class (extending dj.Manual, dj.Lookup, dj.Computed, dj.Imported), got ${String(cls)}`);
    if (c.prototype instanceof Part) throw new DataJointError(`Part table ${c.name} is registered through its master, not on its own`);
    Object.defineProperty(c, '_schema', { value: this, writable: true, configurable: true, enumerable: false });
    this.registry.set(c.name, c);
    undeclared.add(this);
    return cls;
  }

  /** Registered classes by name (masters; parts reachable as their static properties). */
  get tables(): Record<string, TableClass> {
    return Object.fromEntries(this.registry);
  }

  /** @internal */
  classByName(name: string): TableClass | undefined {
    return this.registry.get(name);
  }

  /** Declare a table class (and its parents and parts) if missing, once per process. */
  ensureDeclared(cls: TableClass): Promise<void> {
    if (this.#database === null) return Promise.reject(this.#notActivated());
    this.#dropped.delete(cls);
    return this.declarer.ensureDeclared(cls);
  }

  /** A class's current definition compiled against this schema (for alter()); creates nothing of its own. */
  compile(cls: TableClass): Promise<CompiledTable> {
    return this.declarer.compile(cls);
  }

  /** Declare every registered table now. */
  async declare(): Promise<void> {
    for (const cls of this.registry.values()) await this.ensureDeclared(cls);
  }

  /**
   * Before a transaction begins: declare the registered tables, as DataJoint Python does when
   * a class is defined, so a transaction that first touches one needs no DDL. A class that
   * cannot be declared is left for its own first use to report.
   * @internal
   */
  declareRegistered(): Promise<void> {
    undeclared.delete(this);
    this.#declaring ??= (async () => {
      for (const cls of [...this.registry.values()]) if (!this.#dropped.has(cls)) await this.ensureDeclared(cls).catch(() => {});
    })().finally(() => (this.#declaring = null));
    return this.#declaring;
  }

  headingOf(tableName: string): Promise<Heading> {
    return this.headings.get(this.connection, this.database, tableName);
  }

  invalidate(tableName?: string): void {
    this.headings.forget(this.database, tableName === undefined ? undefined : [tableName]);
  }

  classNameOf(database: string, tableName: string): string | null {
    if (database !== this.database) return null;
    for (const cls of this.registry.values()) {
      if (cls.tableName === tableName) return cls.name;
      for (const [k, p] of partsOfClass(cls)) if (p._master && p.tableName === tableName) return `${cls.name}.${k}`;
    }
    return null;
  }

  /** After tables were dropped: forget their lineage, headings and declared state. */
  async forgetTables(tableNames: string[]): Promise<void> {
    if (!tableNames.length) return;
    const dropped = new Set(tableNames);
    this.headings.forget(this.database, tableNames);
    const classes: TableClass[] = [];
    for (const cls of this.registry.values()) {
      if (dropped.has(cls.tableName)) classes.push(cls);
      for (const [, p] of partsOfClass(cls)) if (p._master && dropped.has(p.tableName)) classes.push(p);
    }
    this.declarer.forget(classes);
    for (const c of classes) this.#dropped.add(c);
    await forgetLineage(this.connection, this.database, tableNames);
  }

  async exists(): Promise<boolean> {
    return this.connection.catalog.databaseExists(this.database);
  }

  /** SQL names of the tables in this schema (hidden `~` tables excluded). */
  async listTables(): Promise<string[]> {
    const tables = await this.connection.catalog.listTables(this.database);
    return tables.map((t) => t.name).filter((n) => !n.startsWith('~'));
  }

  /** A FreeTable for a table of this schema by SQL name or class name. */
  async getTable(name: string): Promise<FreeTable> {
    const names = await this.listTables();
    let sqlName = names.find((n) => n === name);
    sqlName ??= names.find((n) => {
      const p = parseTableName(n);
      if (!p) return false;
      if (p.master) return `${parseTableName(p.master)?.className}.${p.className}` === name;
      return p.className === name;
    });
    if (!sqlName) throw new MissingTableError(`Table ${name} is not in schema ${this.database}`);
    // Read afresh: the table may have been altered since its heading was cached (by another process).
    this.invalidate(sqlName);
    return FreeTable.create(this.connection, this.database, sqlName, this);
  }

  /**
   * Drop the whole schema (database). Refused while tables of other schemas reference it: their
   * data is not this schema's to drop (DataJoint Python's DROP DATABASE fails the same way on
   * MySQL), so the error names them, to be dropped first.
   */
  async drop(opts: { prompt?: boolean } = {}): Promise<void> {
    const conn = this.connection;
    if (!(await conn.catalog.databaseExists(this.database))) return;
    const external = new Set<string>();
    for (const t of await this.listTables())
      for (const fk of await conn.catalog.referencingKeys(this.database, t))
        if (fk.childDatabase !== this.database) external.add(conn.dialect.fullName(fk.childDatabase, fk.childTable));
    if (external.size)
      throw new IntegrityError(`Cannot drop schema ${this.database}: tables of other schemas reference it (${[...external].join(', ')}). Drop those tables or their schemas first.`);
    if (shouldPrompt(opts.prompt, `to drop schema ${this.database}`) && !(await confirm(`Proceed to delete entire schema \`${this.database}\`?`))) return;
    try {
      await conn.executeAll(conn.dialect.dropDatabase(this.database));
    } finally {
      // Its jobs tables (~~name) went with it: populate's record of having declared them is stale.
      noteDrop();
    }
    // Dropped on purpose: a later transaction must not declare its registered tables again
    // (declareRegistered); a class's own next use still does.
    undeclared.delete(this);
    this.headings.forget();
    const classes: TableClass[] = [];
    for (const cls of this.registry.values()) classes.push(cls, ...partsOfClass(cls).map(([, p]) => p));
    this.declarer.forget(classes, true);
  }

  /** Recompute ~lineage for every table from foreign keys (parents' lineage first). */
  async rebuildLineage(): Promise<void> {
    await rebuildLineage(this.connection, this.database, await this.listTables());
    this.invalidate();
  }

  /** Lineage entries: `schema.table.attribute` → origin. */
  lineage(): Promise<Record<string, string>> {
    return readSchemaLineage(this.connection, this.database);
  }

  /**
   * Populate every auto-populated table of the schema in dependency order (upstream first),
   * with the options of populate(); `maxCalls` counts makes across all of them.
   */
  async populate(opts: PopulateOptions = {}): Promise<Record<string, PopulateResult>> {
    // Loaded on use: the populate engine depends on tables, which depend on schemas.
    const { populateSchema } = await import('../populate/schema-populate.js');
    return populateSchema(this, opts);
  }

  toString(): string {
    return `Schema(${this.#database ?? '<not activated>'})`;
  }
}

/** A schema that is also usable as a class decorator: `@schema class X extends dj.Manual {}`. */
export type SchemaDecorator = Schema & (<C extends abstract new (...args: never[]) => unknown>(cls: C, context?: unknown) => C);

/** `dj.schema('db', opts)`; `dj.schema()` or `dj.schema(opts)`: a deferred schema (activate it later). */
export function schema(opts?: SchemaOptions): SchemaDecorator;
export function schema(database: string | null | undefined, opts?: SchemaOptions): SchemaDecorator;
export function schema(database?: string | null | SchemaOptions, opts: SchemaOptions = {}): SchemaDecorator {
  const s = database !== null && typeof database === 'object' ? new Schema(null, database) : new Schema(database, opts);
  const decorate = (cls: abstract new (...args: never[]) => unknown) => s.add(cls);
  return new Proxy(decorate, {
    apply: (_t, _this, args: unknown[]) => s.add(args[0] as abstract new (...args: never[]) => unknown),
    get: (_t, prop) => {
      const v = Reflect.get(s, prop, s);
      return typeof v === 'function' ? v.bind(s) : v;
    },
    set: (_t, prop, value) => Reflect.set(s, prop, value, s),
    has: (_t, prop) => prop in s,
    getPrototypeOf: () => Schema.prototype,
  }) as unknown as SchemaDecorator;
}


/**
 * Schema: a database plus the table classes registered on it (API.md §2). Registration is
 * synchronous; declaration is lazy (declare.ts), lineage lives in lineage.ts, and virtual
 * schemas in virtual.ts.
 */
import { DataJointError, MissingTableError } from '../errors.js';
import { type Connection, conn as sharedConn, onBeforeTransaction } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import { type SchemaLike, type TableClass, dropTables } from '../table/table.js';
import { FreeTable } from '../table/free-table.js';
import { Part } from '../table/tiers.js';
import { loadHeading } from '../table/load-heading.js';
import { parseTableName } from '../table/names.js';
import { confirm, shouldPrompt } from '../table/prompt.js';
import { Declarer, declaring, isTableClass, partsOfClass } from './declare.js';
import { forgetLineage, readSchemaLineage, rebuildLineage } from './lineage.js';
import { threadRegistry } from './registry.js';

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
}

/** Schemas with registered classes not declared yet (declared before the next transaction). */
const undeclared = new Set<Schema>();
onBeforeTransaction(async (conn) => {
  if (declaring.getStore()) return; // a declaration's own transaction: it is declaring already
  for (const s of [...undeclared]) if (s.connection === conn) await s.declareRegistered();
});

export class Schema implements SchemaLike {
  readonly database: string;
  readonly context: Record<string, unknown>;
  readonly module: string | null;
  readonly createSchema: boolean;
  private readonly _connection: Connection | null;
  private readonly registry = new Map<string, TableClass>();
  private readonly headings = new Map<string, Promise<Heading>>();
  private readonly declarer: Declarer;
  #declaring: Promise<void> | null = null;

  constructor(database: string, opts: SchemaOptions = {}) {
    if (!/^[A-Za-z0-9_$-]{1,64}$/.test(database)) throw new DataJointError(`Invalid schema name "${database}"`);
    this.database = database;
    this.context = opts.context ?? {};
    this.module = opts.module ?? null;
    this._connection = opts.connection ?? null;
    this.createSchema = opts.createSchema ?? true;
    this.declarer = new Declarer(this);
    threadRegistry().add(this);
  }

  get connection(): Connection {
    return this._connection ?? sharedConn();
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
    return this.declarer.ensureDeclared(cls);
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
      for (const cls of [...this.registry.values()]) await this.ensureDeclared(cls).catch(() => {});
    })().finally(() => (this.#declaring = null));
    return this.#declaring;
  }

  headingOf(tableName: string): Promise<Heading> {
    let h = this.headings.get(tableName);
    if (!h) {
      h = loadHeading(this.connection, this.database, tableName).catch((err) => {
        this.headings.delete(tableName);
        throw err;
      });
      this.headings.set(tableName, h);
    }
    return h;
  }

  invalidate(tableName?: string): void {
    if (tableName === undefined) this.headings.clear();
    else this.headings.delete(tableName);
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
    for (const n of tableNames) this.headings.delete(n);
    const classes: TableClass[] = [];
    for (const cls of this.registry.values()) {
      if (dropped.has(cls.tableName)) classes.push(cls);
      for (const [, p] of partsOfClass(cls)) if (p._master && dropped.has(p.tableName)) classes.push(p);
    }
    this.declarer.forget(classes);
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
    return FreeTable.create(this.connection, this.database, sqlName, this);
  }

  /** Drop the whole schema (database), after the tables of other schemas that depend on it. */
  async drop(opts: { prompt?: boolean } = {}): Promise<void> {
    const conn = this.connection;
    if (!(await conn.catalog.databaseExists(this.database))) return;
    if (shouldPrompt(opts.prompt, `to drop schema ${this.database}`) && !(await confirm(`Proceed to delete entire schema \`${this.database}\`?`))) return;
    const external = new Map<string, { database: string; name: string }>();
    for (const t of await this.listTables())
      for (const fk of await conn.catalog.referencingKeys(this.database, t))
        if (fk.childDatabase !== this.database) external.set(`${fk.childDatabase}.${fk.childTable}`, { database: fk.childDatabase, name: fk.childTable });
    if (external.size) await dropTables(conn, [...external.values()], false);
    await conn.executeAll(conn.dialect.dropDatabase(this.database));
    this.headings.clear();
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

  toString(): string {
    return `Schema(${this.database})`;
  }
}

/** A schema that is also usable as a class decorator: `@schema class X extends dj.Manual {}`. */
export type SchemaDecorator = Schema & (<C extends abstract new (...args: never[]) => unknown>(cls: C, context?: unknown) => C);

export function schema(database: string, opts: SchemaOptions = {}): SchemaDecorator {
  const s = new Schema(database, opts);
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


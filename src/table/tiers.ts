/** Table tiers (spec: table-declaration §1.2) and FreeTable. */
import { DataJointError, MissingTableError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import { attributeFromColumn, Heading as HeadingClass } from '../heading/heading.js';
import type { State } from '../expression/state.js';
import { Table, type SchemaLike, type TableClass, dropTables, freeHeadings } from './table.js';
import type { TierName } from './names.js';
import { config, type ConfigValue } from '../config.js';
import { QueryExpression, operandResolver } from '../expression/expression.js';
import type { Row } from '../fetch/fetch.js';
import { populateModules } from '../populate/modules.js';
import type { Jobs } from '../populate/jobs.js';
import type { AutoPopulateLike, PopulateOptions, PopulateResult } from '../populate/populate.js';
import type { WorkerChunkResult, WorkerTask } from '../populate/pool.js';

/** Data entered by hand or by external scripts. */
export class Manual extends Table {
  static override tier: TierName = 'manual';
}

/** Small reference tables whose `contents` are inserted at declaration. */
export class Lookup extends Table {
  static override tier: TierName = 'lookup';
}

/** Detail rows of a master; declared as a static property of the master class. */
export class Part extends Table {
  static override tier: TierName = 'part';
}

/**
 * Base of auto-populated tiers (Computed, Imported): populate(), progress(), keySource, jobs.
 * The engine lives in src/populate; these are the user-facing entry points.
 */
export class AutoPopulate extends Table {
  /** Keys make() is called with: by default the join of the primary-key parents. Override as a static getter. */
  static get keySource(): unknown {
    const { ParentJoin } = populateModules();
    const self = new this();
    return new ParentJoin(self.connection, self.database, self.tableName, () => self.tableHeading());
  }

  /** The key source (restricted), as an expression. */
  async keySourceExpression(restrict?: unknown): Promise<QueryExpression> {
    const ctor = this.constructor as typeof AutoPopulate;
    const ks = ctor.keySource;
    const expr = operandResolver.toExpression(ks);
    if (!expr) throw new DataJointError(`${ctor.name}.keySource must be a query expression or a table class`);
    return restrict === undefined ? expr : expr.restrict(restrict);
  }

  /** This table, unrestricted. */
  selfExpression(): QueryExpression {
    return new (this.constructor as new () => Table)();
  }

  get jobs(): Jobs {
    return (this.constructor as typeof AutoPopulate).jobs;
  }
  static get jobs(): Jobs {
    let j = jobsByClass.get(this);
    if (!j) {
      const { Jobs: J } = populateModules();
      const owner = new this();
      j = new J({
        connection: owner.connection,
        database: owner.database,
        tableName: owner.tableName,
        tableHeading: () => owner.tableHeading(),
        keySourceExpression: (r?: unknown) => owner.keySourceExpression(r),
        selfExpression: () => owner.selfExpression(),
      });
      jobsByClass.set(this, j);
    }
    return j;
  }

  async populate(opts: PopulateOptions = {}): Promise<PopulateResult> {
    await this.declare();
    return populateModules().populate(this as unknown as AutoPopulateLike, opts);
  }
  static populate(this: new () => AutoPopulate, opts?: PopulateOptions): Promise<PopulateResult> {
    return new this().populate(opts);
  }

  /** `{ remaining, total }`: keys still to compute, and keys in the key source. */
  async progress(opts: { restrict?: unknown } = {}): Promise<{ remaining: number; total: number }> {
    await this.declare();
    const ks = await this.keySourceExpression(opts.restrict);
    const [remaining, total] = await Promise.all([ks.minus(this.selfExpression(), { semanticCheck: false }).count(), ks.count()]);
    return { remaining, total };
  }
  static progress(this: new () => AutoPopulate, opts?: { restrict?: unknown }): Promise<{ remaining: number; total: number }> {
    return new this().progress(opts);
  }

  /** Entry point of populate's worker threads (see workers/populate-worker.mjs). */
  static async _runWorkerTask(task: WorkerTask): Promise<{ value: unknown; transferList?: ArrayBuffer[] }> {
    applyWorkerConfig(task.config);
    const { populateKeys, collectTransferables } = populateModules();
    const t = new this() as unknown as AutoPopulateLike;
    if (task.op === 'compute') {
      const value = await (t.makeCompute as (k: Row, f: unknown) => unknown)({ ...task.key }, task.fetched);
      return { value, transferList: collectTransferables(value) };
    }
    // A chunk of keys, made with the same loop as in-process populate (group commit included).
    const r = await populateKeys(t, task.keys ?? [], { reserveJobs: task.reserveJobs, makeKwargs: task.makeKwargs, suppressErrors: true }, { inTx: false });
    const value: WorkerChunkResult = {
      success: r.success,
      error: r.error,
      skip: r.skip,
      errors: r.errors.map(({ key, error }) => ({ key, error: { name: error.name, message: error.message, stack: error.stack } })),
    };
    return { value };
  }
}

const jobsByClass = new WeakMap<object, Jobs>();
let workerConfigApplied = false;
function applyWorkerConfig(snapshot: Record<string, unknown>): void {
  if (workerConfigApplied) return;
  workerConfigApplied = true;
  for (const [k, v] of Object.entries(snapshot)) config.set(k, v as ConfigValue);
}

/** Rows computed from other tables by make(). */
export class Computed extends AutoPopulate {
  static override tier: TierName = 'computed';
}

/** Rows brought in from outside the database by make(). */
export class Imported extends AutoPopulate {
  static override tier: TierName = 'imported';
}

/** Load a table heading (with lineage) straight from the catalog. */
export async function loadHeading(conn: Connection, database: string, table: string): Promise<Heading> {
  const cols = await conn.adapter.columns(database, table);
  if (!cols.length) {
    throw new MissingTableError(`Table ${conn.dialect.fullName(database, table)} does not exist`);
  }
  let lineage = new Map<string, string>();
  let lineageAvailable = true;
  try {
    const rows = await conn.query(`SELECT attribute_name AS a, lineage AS l FROM ${conn.dialect.fullName(database, '~lineage')} WHERE table_name = ?`, [table]);
    lineage = new Map(rows.map((r) => [String(r.a), String(r.l)]));
  } catch {
    lineageAvailable = false;
  }
  return new HeadingClass(
    cols.map((c) => attributeFromColumn(c, lineage.get(c.name) ?? null)),
    { lineageAvailable },
  );
}

/** A table addressed by name, without a user class (virtual schemas, getTable, cascades). */
export class FreeTable extends Table {
  _fconnection!: Connection;
  _fdatabase!: string;
  _ftable!: string;
  _ftier!: TierName;
  _fschema: SchemaLike | null = null;
  /** @internal */
  override schemaOrNull(): SchemaLike | null {
    return this._fschema;
  }

  static create(connection: Connection, database: string, table: string, schema?: SchemaLike): FreeTable {
    const t = new FreeTable();
    t._fconnection = connection;
    t._fdatabase = database;
    t._ftable = table;
    t._fschema = schema ?? null;
    const m = /^(#|__|_)?[a-z0-9_]+?(__[a-z0-9_]+)?$/.exec(table);
    t._ftier = m?.[2] ? 'part' : m?.[1] === '#' ? 'lookup' : m?.[1] === '__' ? 'computed' : m?.[1] === '_' ? 'imported' : 'manual';
    return t;
  }

  override get connection(): Connection {
    return this._fconnection;
  }
  override get database(): string {
    return this._fdatabase;
  }
  override get tableName(): string {
    return this._ftable;
  }
  override get tier(): TierName {
    return this._ftier;
  }
  override async declare(): Promise<void> {
    /* already exists by definition */
  }
  override async tableHeading(): Promise<Heading> {
    if (this._fschema && this._fschema.database === this._fdatabase) return this._fschema.headingOf(this._ftable);
    let cache = freeHeadings.get(this._fconnection);
    if (!cache) freeHeadings.set(this._fconnection, (cache = new Map()));
    const k = `${this._fdatabase}.${this._ftable}`;
    if (!cache.has(k)) cache.set(k, loadHeading(this._fconnection, this._fdatabase, this._ftable).catch((e) => { cache!.delete(k); throw e; }));
    return cache.get(k)!;
  }
  /** @internal */
  override async baseState(): Promise<State> {
    const heading = await this.tableHeading();
    return { heading, from: this.fullTableName, where: [], groupBy: null, having: [], distinct: false, top: null, table: { database: this._fdatabase, name: this._ftable } };
  }
  override async drop(opts: { prompt?: boolean; partIntegrity?: 'enforce' | 'ignore' | 'cascade' } = {}): Promise<void> {
    if (this.isRestricted) throw new DataJointError('drop() cannot be applied to a restricted table');
    if (this._ftier === 'part' && (opts.partIntegrity ?? 'enforce') === 'enforce') throw new DataJointError(`Cannot drop part table ${this.fullTableName} alone: drop its master instead`);
    await dropTables(this._fconnection, [{ database: this._fdatabase, name: this._ftable }], opts.prompt, this._fschema ?? undefined);
  }
  override describe(): Promise<string> {
    return super.describe();
  }
}

export type { TableClass };

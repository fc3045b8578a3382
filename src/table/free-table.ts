/** FreeTable: a table addressed by name, without a user class (virtual schemas, getTable, cascades, jobs). */
import { DataJointError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import type { Heading } from '../heading/heading.js';
import type { State } from '../expression/state.js';
import { Table, type SchemaLike, freeHeadings } from './table.js';
import { type DropOptions, checkDropOptions, dropTables } from './drop.js';
import { type TierName, parseTableName } from './names.js';
import { HeadingCache } from './heading-cache.js';

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
    t._ftier = parseTableName(table)?.tier ?? 'manual';
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
    if (!cache) freeHeadings.set(this._fconnection, (cache = new HeadingCache()));
    return cache.get(this._fconnection, this._fdatabase, this._ftable);
  }
  /** @internal */
  override async baseState(): Promise<State> {
    const heading = await this.tableHeading();
    return { heading, from: this.fullTableName, where: [], groupBy: null, having: [], distinct: false, top: null, table: { database: this._fdatabase, name: this._ftable } };
  }
  override async drop(opts: DropOptions = {}): Promise<void> {
    if (this.isRestricted) throw new DataJointError('drop() cannot be applied to a restricted table');
    if (checkDropOptions(opts) === 'enforce' && this._ftier === 'part')
      throw new DataJointError(`Cannot drop part table ${this.fullTableName} alone: drop its master instead (or pass partIntegrity: 'ignore')`);
    await dropTables(this._fconnection, [{ database: this._fdatabase, name: this._ftable }], opts.prompt, this._fschema ?? undefined);
  }
  override describe(): Promise<string> {
    return super.describe();
  }
}


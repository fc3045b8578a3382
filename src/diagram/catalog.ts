/**
 * The only place where the diagram touches a connection. A diagram needs a few catalog facts
 * (whether a database exists, its tables, the foreign keys they declare, the foreign keys that
 * reference a table from any database, a table's primary key) plus the dialect's way of writing
 * a full table name. `catalogOf(connection)` adapts a connection to that small interface; when
 * the connection API changes, this one function changes and the rest of src/diagram/ does not.
 */
import type { ForeignKeyInfo } from '../adapters/adapter.js';
import type { Connection } from '../connection/connection.js';

/** One foreign-key constraint, child → parent (the catalog's own record). */
export type CatalogForeignKey = ForeignKeyInfo;

/** What the dependency graph reads from the database. */
export interface DiagramCatalog {
  /** SQL names of the tables of `database`, hidden (`~…`) tables included. Empty if it does not exist. */
  listTables(database: string): Promise<string[]>;
  /** Foreign keys declared by the tables of `database` (parents may live in other databases). */
  foreignKeys(database: string): Promise<CatalogForeignKey[]>;
  /** Foreign keys, from tables of any database, that reference `database`.`table`. */
  referencingKeys(database: string, table: string): Promise<CatalogForeignKey[]>;
  /** Primary-key columns of a table. */
  primaryKey(database: string, table: string): Promise<string[]>;
  /** Whether the database (schema) exists. */
  databaseExists(database: string): Promise<boolean>;
  /** The dialect's quoted full name: `` `db`.`table` `` (MySQL) or `"db"."table"` (PostgreSQL). */
  fullName(database: string, table: string): string;
}

/** The catalog of a connection, as the diagram reads it. */
export function catalogOf(connection: Connection): DiagramCatalog {
  const catalog = connection.catalog;
  return {
    async listTables(database) {
      return (await catalog.listTables(database)).map((t) => t.name);
    },
    foreignKeys: (database) => catalog.foreignKeys(database),
    referencingKeys: (database, table) => catalog.referencingKeys(database, table),
    async primaryKey(database, table) {
      return (await catalog.columns(database, table)).filter((c) => c.inKey).map((c) => c.name);
    },
    databaseExists: (database) => catalog.databaseExists(database),
    fullName: (database, table) => connection.dialect.fullName(database, table),
  };
}

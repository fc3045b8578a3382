/**
 * Fills a DependencyGraph from the catalog, on demand: a database is read whole the first time
 * one of its tables is needed (its tables, their primary keys, the foreign keys they declare),
 * and a table's children in *other* databases are looked up only when a diagram expands down
 * from it. So `Diagram(schema)` costs a few catalog queries, and `up`/`down` reach into other
 * schemas as DataJoint Python does when those schemas are loaded in the connection.
 */
import type { DiagramCatalog } from './catalog.js';
import { DependencyGraph, isHiddenTable } from './graph.js';

export class GraphLoader {
  readonly graph: DependencyGraph;
  readonly #databases = new Map<string, Promise<void>>();
  readonly #children = new Map<string, Promise<void>>();

  constructor(readonly catalog: DiagramCatalog) {
    this.graph = new DependencyGraph((db, t) => catalog.fullName(db, t));
  }

  /** Read a database's tables and foreign keys (once). */
  loadDatabase(database: string): Promise<void> {
    let p = this.#databases.get(database);
    if (!p) {
      p = this.#readDatabase(database);
      this.#databases.set(database, p);
    }
    return p;
  }

  async #readDatabase(database: string): Promise<void> {
    const names = (await this.catalog.listTables(database)).filter((n) => !isHiddenTable(n));
    const keys = await Promise.all(names.map((n) => this.catalog.primaryKey(database, n)));
    names.forEach((n, i) => this.graph.addTable(database, n, keys[i]!));
    for (const fk of await this.catalog.foreignKeys(database)) this.graph.addForeignKey(fk);
  }

  /** Make the parents of a table known: they are declared by its own database's foreign keys. */
  async loadParents(id: string): Promise<void> {
    const t = this.graph.tables.get(id);
    if (t) await this.loadDatabase(t.database);
  }

  /** Make the children of a table known, in any database (each such database is read whole). */
  loadChildren(id: string): Promise<void> {
    let p = this.#children.get(id);
    if (!p) {
      p = this.#readChildren(id);
      this.#children.set(id, p);
    }
    return p;
  }

  async #readChildren(id: string): Promise<void> {
    const t = this.graph.tables.get(id);
    if (!t) return;
    await this.loadDatabase(t.database);
    const fks = await this.catalog.referencingKeys(t.database, t.name);
    await Promise.all([...new Set(fks.map((fk) => fk.childDatabase))].map((db) => this.loadDatabase(db)));
    // Normally already added by the child's database; added here too in case the catalog
    // reports a key its database listing missed.
    for (const fk of fks) this.graph.addForeignKey(fk);
  }

  /** Load what `up`/`down` needs to see one level beyond `shown`. */
  async prepareExpansion(shown: ReadonlySet<string>, direction: 'up' | 'down'): Promise<void> {
    const tables = [...shown].filter((id) => this.graph.tables.has(id));
    await Promise.all(tables.map((id) => (direction === 'down' ? this.loadChildren(id) : this.loadParents(id))));
  }
}

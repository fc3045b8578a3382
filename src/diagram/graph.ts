/**
 * The foreign-key dependency graph that diagrams are cut from, built as DataJoint Python's
 * `Dependencies` builds it: a node per table (hidden `~` tables excluded) and an edge per foreign
 * key, parent → child. A foreign key that renames columns (`-> Parent.proj(x='parent_id')`) runs
 * through an *alias node* (`parent → "0" → child`), so that a child can reference the same parent
 * twice, and so that the diagram can mark the renaming with a dot. Expansion by levels
 * (`up`/`down`) and the topological order follow Python's rules, alias nodes included.
 *
 * Pure data: `load.ts` fills it from the catalog; unit tests fill it by hand.
 */
import { DataJointError } from '../errors.js';
import { parseTableName, type TierName } from '../table/names.js';
import type { CatalogForeignKey } from './catalog.js';

export type Tier = TierName;

export interface TableNode {
  /** The full table name (dialect-quoted): the node's identity. */
  id: string;
  database: string;
  /** SQL table name as stored: `session`, `#method`, `__result__detail`. */
  name: string;
  /** Tier from the name prefix, or null for a name DataJoint would not have made. */
  tier: Tier | null;
  /** Full name of the master (parts only). */
  master: string | null;
  /** Class name as DataJoint shows it: `Session`, `Session.Trial`; null for foreign names. */
  className: string | null;
  /** Primary-key columns; null while the table's database is not loaded (a stub). */
  primaryKey: string[] | null;
}

export interface DependencyEdge {
  parent: string;
  child: string;
  /** Constraint name. */
  constraint: string;
  /** Child column → parent column, in key order. */
  attrMap: Array<[child: string, parent: string]>;
  /** Every foreign-key column is in the child's primary key (drawn solid, else dashed). */
  primary: boolean;
  /** The child's primary key is more than these columns: one parent row, many children (thin). */
  multi: boolean;
  /** Some column is renamed (drawn through an alias node). */
  renamed: boolean;
  /** Id of the alias node between parent and child (renamed keys only). */
  alias: string | null;
}

/** Backtick quoting, for graphs built without a connection (tests, tools). */
export const mysqlFullName = (database: string, table: string) => `\`${database}\`.\`${table}\``;

export const isHiddenTable = (name: string) => name.startsWith('~');

export class DependencyGraph {
  readonly tables = new Map<string, TableNode>();
  readonly edges: DependencyEdge[] = [];
  readonly #edgeKeys = new Set<string>();
  readonly #out = new Map<string, string[]>();
  readonly #in = new Map<string, string[]>();
  #aliasCount = 0;

  constructor(readonly fullName: (database: string, table: string) => string = mysqlFullName) {}

  /** Add a table, or complete a stub with its primary key. Returns its id. */
  addTable(database: string, name: string, primaryKey: string[] | null = null): string {
    const id = this.fullName(database, name);
    const known = this.tables.get(id);
    if (known) {
      if (primaryKey && !known.primaryKey) known.primaryKey = [...primaryKey];
      return id;
    }
    const parsed = parseTableName(name);
    let className = parsed?.className ?? null;
    let master: string | null = null;
    if (parsed?.tier === 'part') {
      master = this.fullName(database, parsed.master!);
      className = `${parseTableName(parsed.master!)?.className}.${parsed.className}`;
    }
    this.tables.set(id, { id, database, name, tier: parsed?.tier ?? null, master, className, primaryKey: primaryKey ? [...primaryKey] : null });
    return id;
  }

  /** Add a foreign key (idempotent per child and constraint). The child's primary key should be known. */
  addForeignKey(fk: CatalogForeignKey): void {
    if (isHiddenTable(fk.parentTable) || isHiddenTable(fk.childTable)) return;
    const parent = this.addTable(fk.parentDatabase, fk.parentTable);
    const child = this.addTable(fk.childDatabase, fk.childTable);
    const key = `${child}\u0000${fk.name}`;
    if (this.#edgeKeys.has(key)) return;
    this.#edgeKeys.add(key);
    const pk = new Set(this.tables.get(child)!.primaryKey ?? []);
    const cols = fk.attrMap.map(([c]) => c);
    const renamed = fk.attrMap.some(([c, p]) => c !== p);
    const edge: DependencyEdge = {
      parent,
      child,
      constraint: fk.name,
      attrMap: fk.attrMap.map(([c, p]) => [c, p]),
      primary: cols.every((c) => pk.has(c)),
      multi: !(cols.length === pk.size && cols.every((c) => pk.has(c))),
      renamed,
      alias: renamed ? String(this.#aliasCount++) : null,
    };
    this.edges.push(edge);
    if (edge.alias) {
      this.#link(parent, edge.alias);
      this.#link(edge.alias, child);
    } else {
      this.#link(parent, child);
    }
  }

  #link(from: string, to: string): void {
    (this.#out.get(from) ?? this.#out.set(from, []).get(from)!).push(to);
    (this.#in.get(to) ?? this.#in.set(to, []).get(to)!).push(from);
  }

  isAlias(id: string): boolean {
    return /^\d+$/.test(id);
  }

  successors(id: string): readonly string[] {
    return this.#out.get(id) ?? [];
  }

  predecessors(id: string): readonly string[] {
    return this.#in.get(id) ?? [];
  }

  /** Ids of the tables of one database. */
  tablesIn(database: string): string[] {
    return [...this.tables.values()].filter((t) => t.database === database).map((t) => t.id);
  }

  /**
   * Nodes one step below (`down`) or above (`up`) `shown` and not in it, as Python's
   * `node_boundary`; an alias node reached brings the table beyond it along (a renamed key
   * is one level, not two).
   */
  boundary(shown: ReadonlySet<string>, direction: 'up' | 'down'): Set<string> {
    const step = (id: string) => (direction === 'down' ? this.successors(id) : this.predecessors(id));
    const found = new Set<string>();
    for (const id of shown) for (const n of step(id)) if (!shown.has(n)) found.add(n);
    for (const id of [...found]) if (this.isAlias(id)) for (const n of step(id)) found.add(n);
    return found;
  }

  /**
   * Table ids in topological order, parts right after their masters (Python's `topo_sort`):
   * parents of a part also precede its master, then each part is moved up behind its master.
   * Ties are broken by name so that the order is stable.
   */
  topoSort(): string[] {
    const ids = [...this.tables.keys()].sort();
    const children = new Map<string, Set<string>>(ids.map((id) => [id, new Set<string>()]));
    const addEdge = (p: string, c: string) => {
      if (p !== c) children.get(p)!.add(c);
    };
    for (const e of this.edges) addEdge(e.parent, e.child);
    for (const e of this.edges) {
      const master = this.tables.get(e.child)!.master;
      if (master && this.tables.has(master) && e.parent !== master && this.tables.get(e.parent)!.master !== master) addEdge(e.parent, master);
    }
    const indegree = new Map<string, number>(ids.map((id) => [id, 0]));
    for (const kids of children.values()) for (const c of kids) indegree.set(c, indegree.get(c)! + 1);
    const ready = ids.filter((id) => indegree.get(id) === 0);
    const order: string[] = [];
    while (ready.length) {
      const id = ready.shift()!;
      order.push(id);
      const freed = [...children.get(id)!].filter((c) => indegree.set(c, indegree.get(c)! - 1).get(c) === 0);
      if (freed.length) {
        ready.push(...freed);
        ready.sort();
      }
    }
    if (order.length < ids.length) throw new DataJointError('DataJoint can only work with acyclic dependencies');
    // Bring parts up to their masters, scanning from the end as Python does.
    const placed = new Set<string>();
    let pos = order.length - 1;
    while (pos > 1) {
      const part = order[pos]!;
      const master = this.tables.get(part)!.master;
      if (!master || !this.tables.has(master) || placed.has(part)) {
        pos--;
        continue;
      }
      placed.add(part);
      const at = order.indexOf(master) + 1;
      if (pos > at) {
        order.splice(pos, 1);
        order.splice(at, 0, part);
      }
    }
    return order;
  }
}

/**
 * `dj.Diagram`: a view of the dependency graph, as DataJoint Python's `Diagram`. It is built from
 * a schema or a table and combined with `add`/`remove` (Python's `+`/`-` with another diagram,
 * schema or table) and `up(n)`/`down(n)` (Python's `- n`/`+ n`: n levels of ancestors or
 * descendants; a renamed foreign key's alias node does not count as a level). Diagrams are
 * immutable expressions. The catalog is read on the first output call of a diagram or of any
 * diagram derived from the same `new Diagram(...)`, and kept for all of them: that read is the
 * snapshot Python takes when it builds a Diagram.
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Connection } from '../connection/connection.js';
import { config } from '../config.js';
import { DataJointError, MissingTableError } from '../errors.js';
import { catalogOf } from './catalog.js';
import { toDot, type DotOptions } from './dot.js';
import type { DependencyGraph, TableNode } from './graph.js';
import { GraphLoader } from './load.js';
import { toMermaid } from './mermaid.js';
import { type CascadePlan, type CascadeTarget, type PartIntegrity, countCascade, planCascade } from '../table/cascade.js';
import { drawingOf, type Drawing } from './model.js';
import type { PngOptions } from './render.js';

/** A schema object: `dj.schema(...)` (duck-typed: it has a database and a connection). */
export interface DiagramSchemaLike {
  readonly database: string;
  readonly connection: Connection;
  declare?(): Promise<void>;
  classNameOf?(database: string, tableName: string): string | null;
}

/** A table class or instance (duck-typed: it has a database and a table name). */
export interface DiagramTableLike {
  readonly database: string;
  readonly tableName: string;
  readonly connection?: Connection;
  readonly schema?: DiagramSchemaLike;
  declare?(): Promise<void>;
}

export type DiagramSource = Diagram | DiagramSchemaLike | DiagramTableLike | VirtualSchemaLike;

/** What `dj.virtualSchema` returns: table classes by name and, not enumerable, their schema. */
export interface VirtualSchemaLike {
  readonly schema: DiagramSchemaLike;
}

/** A foreign key between two tables of a diagram, parent → child. */
export interface DiagramEdge {
  parent: string;
  child: string;
  /** All foreign-key columns are in the child's primary key. */
  primary: boolean;
  /** The child's primary key has attributes beyond this key (one-to-many). */
  multi: boolean;
  /** Some column is renamed (Python draws this key through an alias node). */
  renamed: boolean;
  /** Child column → parent column. */
  attrMap: Array<[child: string, parent: string]>;
}

/** Options of the drawing outputs. */
export interface DiagramDrawOptions {
  /** `TB` (default: config `display.diagram_direction`, else `TB`) or `LR`, `BT`, `RL`. */
  direction?: 'TB' | 'LR' | 'BT' | 'RL';
}

type Expr =
  | { op: 'schema'; database: string }
  | { op: 'table'; database: string; table: string }
  | { op: 'add' | 'remove'; a: Expr; b: Expr }
  | { op: 'up' | 'down'; a: Expr; n: number }
  | { op: 'parts'; a: Expr }
  /** The tables a delete would reach; the plan is read once per diagram family. */
  | { op: 'cascade'; database: string; plan: () => Promise<CascadePlan> };

/** What `Diagram.cascade` starts from: a table class, or a (restricted) table. */
export type CascadeSource = CascadeTarget | (new () => CascadeTarget);

/** Options of `Diagram.cascade`. */
export interface CascadeOptions {
  /** As for `delete`: 'enforce' (default) refuses part rows without their masters; 'cascade' adds the masters; 'ignore'. */
  partIntegrity?: PartIntegrity;
}

interface Leaf {
  declare?: () => Promise<void>;
  classNameOf?: (database: string, tableName: string) => string | null;
}

interface View {
  graph: DependencyGraph;
  shown: Set<string>;
}

/** What a diagram is made of. */
interface Parts {
  expr: Expr;
  connection: Connection;
  /** The schemas and tables it was built from (declared before reading; they name classes). */
  leaves: Leaf[];
  /** The catalog as read so far: one per family of diagrams derived from one another. */
  snapshot: { loader: GraphLoader | null };
}

export class Diagram {
  #parts: Parts;
  #view: Promise<View> | null = null;

  /** The diagram of a schema (all its tables) or of one table; from a diagram, a copy. */
  constructor(source: DiagramSource) {
    this.#parts = Diagram.#of(source);
  }

  static #of(source: DiagramSource): Parts {
    return source instanceof Diagram ? { ...source.#parts } : fromSource(source);
  }

  /**
   * The diagram of what `table.delete()` would reach: the table and every table its rows cascade
   * to, planned as delete plans them (API.md §9). `await .counts()` gives the rows per table.
   */
  static cascade(table: CascadeSource, opts: CascadeOptions = {}): Diagram {
    const t = cascadeTarget(table);
    const partIntegrity = opts.partIntegrity ?? 'enforce';
    if (!['enforce', 'ignore', 'cascade'].includes(partIntegrity)) throw new DataJointError(`partIntegrity must be 'enforce', 'ignore' or 'cascade'`);
    let planned: Promise<CascadePlan> | null = null;
    const plan = () =>
      (planned ??= planCascade(t, partIntegrity).catch((err: unknown) => {
        planned = null;
        throw err;
      }));
    const d = new Diagram(t);
    const schema = (t as { schemaOrNull?: () => DiagramSchemaLike | null }).schemaOrNull?.();
    const leaves: Leaf[] = schema?.classNameOf ? [{ classNameOf: (db, n) => schema.classNameOf!(db, n) }] : [];
    d.#parts = { ...d.#parts, expr: { op: 'cascade', database: t.database, plan }, leaves };
    return d;
  }

  /**
   * Rows per table that the delete of a `Diagram.cascade(...)` would remove, by full table name
   * (0 included, parents first), counted now without deleting anything.
   */
  async counts(): Promise<Record<string, number>> {
    const e = this.#parts.expr;
    if (e.op !== 'cascade') throw new DataJointError('counts() is for the diagram of a delete: make it with dj.Diagram.cascade(table.restrict(...))');
    return Object.fromEntries(await countCascade(this.#parts.connection, await e.plan()));
  }

  /** Union: the tables of both (Python's `diagram + other`). */
  add(other: DiagramSource): Diagram {
    return this.#combine('add', Diagram.#of(other));
  }

  /** Difference: these tables without the other's (Python's `diagram - other`). */
  remove(other: DiagramSource): Diagram {
    return this.#combine('remove', Diagram.#of(other));
  }

  /** Extend by `n` levels of ancestors (Python's `diagram - n`). */
  up(n = 1): Diagram {
    return this.#derive({ op: 'up', a: this.#parts.expr, n: levels(n) }, this.#parts.leaves);
  }

  /** Extend by `n` levels of descendants (Python's `diagram + n`). */
  down(n = 1): Diagram {
    return this.#derive({ op: 'down', a: this.#parts.expr, n: levels(n) }, this.#parts.leaves);
  }

  /** Add the part tables of every master in the diagram (Python's `add_parts()`). */
  addParts(): Diagram {
    return this.#derive({ op: 'parts', a: this.#parts.expr }, this.#parts.leaves);
  }

  #combine(op: 'add' | 'remove', other: Parts): Diagram {
    if (other.connection !== this.#parts.connection) throw new DataJointError('Cannot combine diagrams of different connections');
    return this.#derive({ op, a: this.#parts.expr, b: other.expr }, [...this.#parts.leaves, ...other.leaves]);
  }

  #derive(expr: Expr, leaves: Leaf[]): Diagram {
    const d = new Diagram(this);
    d.#parts = { ...this.#parts, expr, leaves };
    return d;
  }

  /** Full table names, in topological order (parents first, parts right after their masters). */
  async nodes(): Promise<string[]> {
    const { graph, shown } = await this.#evaluate();
    return graph.topoSort().filter((id) => shown.has(id));
  }

  /** Foreign keys between the diagram's tables. */
  async edges(): Promise<DiagramEdge[]> {
    const { graph, shown } = await this.#evaluate();
    return graph.edges
      .filter((e) => shown.has(e.parent) && shown.has(e.child))
      .map(({ parent, child, primary, multi, renamed, attrMap }) => ({
        parent,
        child,
        primary,
        multi,
        renamed,
        attrMap: attrMap.map(([c, p]): [string, string] => [c, p]),
      }));
  }

  /** Graphviz DOT source. */
  async toDot(opts: DiagramDrawOptions = {}): Promise<string> {
    return toDot(await this.#drawing(), { direction: direction(opts) });
  }

  /** Mermaid flowchart text (for Markdown, GitHub, mermaid.live). */
  async toMermaid(opts: DiagramDrawOptions = {}): Promise<string> {
    return toMermaid(await this.#drawing(), { direction: direction(opts) });
  }

  /** SVG text, laid out in-process (no system Graphviz). */
  async toSvg(opts: DiagramDrawOptions = {}): Promise<string> {
    const { dotToSvg } = await import('./render.js');
    return dotToSvg(await this.toDot(opts));
  }

  /** PNG bytes on a white background. */
  async toPng(opts: DiagramDrawOptions & PngOptions = {}): Promise<Buffer> {
    const { svgToPng } = await import('./render.js');
    return svgToPng(await this.toSvg(opts), opts);
  }

  /** Write the diagram; the format follows the extension: .svg .png .dot (.gv) .mmd (.mermaid). */
  async save(path: string, opts: DiagramDrawOptions = {}): Promise<void> {
    const ext = extname(path).toLowerCase();
    const render: Record<string, () => Promise<string | Buffer>> = {
      '.svg': () => this.toSvg(opts),
      '.png': () => this.toPng(opts),
      '.dot': () => this.toDot(opts),
      '.gv': () => this.toDot(opts),
      '.mmd': () => this.toMermaid(opts),
      '.mermaid': () => this.toMermaid(opts),
    };
    const make = render[ext];
    if (!make) throw new DataJointError(`Cannot save a diagram as "${ext || path}": use a .svg, .png, .dot or .mmd file name`);
    await writeFile(path, await make());
  }

  async #drawing(): Promise<Drawing> {
    const { graph, shown } = await this.#evaluate();
    // Prefer the class names users declared (Python looks them up in the caller's context).
    const declared = (t: TableNode) => this.#parts.leaves.map((l) => l.classNameOf?.(t.database, t.name)).find((x) => x) ?? null;
    return drawingOf(graph, shown, homeDatabase(this.#parts.expr), declared);
  }

  #evaluate(): Promise<View> {
    this.#view ??= (async () => {
      const parts = this.#parts;
      for (const l of parts.leaves) await l.declare?.();
      const loader = (parts.snapshot.loader ??= new GraphLoader(catalogOf(parts.connection)));
      const shown = await evaluate(parts.expr, loader);
      // Tables reached from other schemas get their primary keys (for underlined labels).
      const dbs = new Set([...shown].map((id) => loader.graph.tables.get(id)?.database).filter((d): d is string => !!d));
      await Promise.all([...dbs].map((db) => loader.loadDatabase(db)));
      return { graph: loader.graph, shown };
    })().catch((err: unknown) => {
      this.#view = null;
      throw err;
    });
    return this.#view;
  }
}

async function evaluate(e: Expr, loader: GraphLoader): Promise<Set<string>> {
  const graph = loader.graph;
  switch (e.op) {
    case 'schema':
      await loader.loadDatabase(e.database);
      return new Set(graph.tablesIn(e.database));
    case 'table': {
      await loader.loadDatabase(e.database);
      const id = graph.fullName(e.database, e.table);
      if (!graph.tables.has(id)) throw new MissingTableError(`Table ${id} does not exist: it cannot be drawn`);
      return new Set([id]);
    }
    case 'add':
    case 'remove': {
      const a = await evaluate(e.a, loader);
      const b = await evaluate(e.b, loader);
      return e.op === 'add' ? new Set([...a, ...b]) : new Set([...a].filter((id) => !b.has(id)));
    }
    case 'up':
    case 'down': {
      const shown = await evaluate(e.a, loader);
      for (let i = 0; i < e.n; i++) {
        await loader.prepareExpansion(shown, e.op);
        const found = graph.boundary(shown, e.op);
        if (!found.size) break;
        for (const id of found) shown.add(id);
      }
      return shown;
    }
    case 'cascade': {
      const { tables } = await e.plan();
      await Promise.all([...new Set(tables.map((t) => t.id.database))].map((db) => loader.loadDatabase(db)));
      return new Set(tables.map((t) => graph.fullName(t.id.database, t.id.name)));
    }
    case 'parts': {
      const shown = await evaluate(e.a, loader);
      for (const t of graph.tables.values()) if (t.master && shown.has(t.master)) shown.add(t.id);
      return shown;
    }
  }
}

/** The database whose tables are labelled without a prefix: that of the leftmost source. */
function homeDatabase(e: Expr): string {
  return e.op === 'schema' || e.op === 'table' || e.op === 'cascade' ? e.database : homeDatabase(e.a);
}

function levels(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new DataJointError(`Diagram levels must be a non-negative integer, got ${typeof n === 'string' ? `'${n}' (a string)` : String(n)}`);
  return n;
}

function direction(opts: DiagramDrawOptions): DotOptions['direction'] {
  const d = opts.direction ?? config.get<string | null>('display.diagram_direction') ?? 'TB';
  if (!['TB', 'LR', 'BT', 'RL'].includes(String(d))) throw new DataJointError(`Diagram direction must be TB, LR, BT or RL, got "${String(d)}"`);
  return d as DotOptions['direction'];
}

/** Read a schema or table source, duck-typed (without importing the table or schema modules). */
function fromSource(source: DiagramSchemaLike | DiagramTableLike | VirtualSchemaLike): Parts {
  // A virtual schema's tables are its schema's, as DataJoint Python's Diagram(module) draws a module.
  const inner = isVirtualSchema(source) ? source.schema : null;
  if (inner) return fromSource(inner);
  const s = source as Partial<DiagramTableLike> & Partial<DiagramSchemaLike>;
  if (s === null || (typeof s !== 'object' && typeof s !== 'function') || typeof s.database !== 'string') {
    throw new DataJointError(`Cannot make a Diagram of ${describe(source)}: expected a schema, a table or a diagram`);
  }
  const leaf: Leaf = {
    declare: typeof s.declare === 'function' ? () => s.declare!() : undefined,
    classNameOf: typeof s.classNameOf === 'function' ? (db, t) => s.classNameOf!(db, t) : tableSchema(s)?.classNameOf?.bind(tableSchema(s)),
  };
  const connection = s.connection ?? tableSchema(s)?.connection;
  if (!connection) throw new DataJointError(`Could not find the database connection of ${describe(source)}`);
  const expr: Expr =
    typeof s.tableName === 'string' ? { op: 'table', database: s.database, table: s.tableName } : { op: 'schema', database: s.database };
  return { expr, connection, leaves: [leaf], snapshot: { loader: null } };
}

/** The table a cascade starts at: a table instance (restricted or not) or a table class. */
function cascadeTarget(source: unknown): CascadeTarget {
  const isTable = (x: unknown): x is CascadeTarget =>
    typeof x === 'object' && x !== null && typeof (x as CascadeTarget).compileState === 'function' && typeof (x as CascadeTarget).declare === 'function' && Array.isArray((x as CascadeTarget)._restrictions);
  const cls = source as { prototype?: { compileState?: unknown; declare?: unknown } };
  const isTableClass = typeof source === 'function' && typeof cls.prototype?.compileState === 'function' && typeof cls.prototype.declare === 'function';
  const t = isTableClass ? new (source as new () => CascadeTarget)() : source;
  if (!isTable(t) || typeof (t as { tableName?: unknown }).tableName !== 'string')
    throw new DataJointError(`Diagram.cascade expects a table or a restricted table (T or T.restrict(...)), got ${describe(source)}`);
  return t;
}

function isVirtualSchema(x: unknown): x is VirtualSchemaLike {
  if (x === null || typeof x !== 'object' || typeof (x as { database?: unknown }).database === 'string') return false;
  const inner = (x as { schema?: unknown }).schema;
  return typeof inner === 'object' && inner !== null && typeof (inner as { database?: unknown }).database === 'string';
}

function describe(x: unknown): string {
  // A schema (callable, as a decorator) is named by its database: cascade starts from a table of it.
  const database = typeof x === 'function' ? (x as { database?: unknown }).database : undefined;
  if (typeof database === 'string' && 'tables' in (x as object)) return `the schema ${database}`;
  if (typeof x === 'function') return x.name ? `class ${x.name}` : 'a function';
  return typeof x === 'object' && x ? `a ${x.constructor?.name ?? 'object'}` : String(x);
}

function tableSchema(s: Partial<DiagramTableLike>): DiagramSchemaLike | undefined {
  try {
    return s.schema;
  } catch {
    return undefined; // an unregistered class throws; its database access will say why
  }
}

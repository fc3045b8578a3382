/**
 * What a diagram draws, independent of the output format: the shown tables with their labels and
 * tiers, the alias nodes of renamed foreign keys whose both ends are shown, the edges between
 * them, and the grouping into schemas and master–part entities. DOT and Mermaid are both
 * written from this model, so the two outputs always agree.
 *
 * Labels follow DataJoint Python's class names: `Session`, `Session.Trial` for a part, and
 * `other_db.Subject` for a table of a schema other than the diagram's own (Python shows
 * `module.Class` there). Inside a schema's cluster the database prefix is not repeated.
 */
import type { DependencyGraph, TableNode, Tier } from './graph.js';

export interface DrawnNode {
  /** Unique name in the drawing: the label, or the alias number. */
  id: string;
  kind: 'table' | 'alias';
  /** Full table name (tables), or null (alias nodes). */
  fullName: string | null;
  tier: Tier | null;
  database: string;
  /** Text shown on the node (the label without its cluster's database prefix). */
  text: string;
  /** The table adds primary-key attributes of its own (drawn underlined, as in Python). */
  introducesDimension: boolean;
  /** Id of the master node when this is a part drawn together with its master. */
  master: string | null;
}

export interface DrawnEdge {
  from: string;
  to: string;
  primary: boolean;
  multi: boolean;
  renamed: boolean;
  /** Master → its own part. */
  masterPart: boolean;
  /** Child column ← parent column pairs that were renamed (for tooltips). */
  renames: string[];
}

export interface Drawing {
  nodes: DrawnNode[];
  edges: DrawnEdge[];
  /** Databases in order of first appearance; nodes are grouped into one cluster each. */
  databases: string[];
}

/**
 * The drawing of `shown` (table ids, alias ids allowed) within `graph`. `home` is the diagram's own
 * database, whose tables are labelled without a prefix; `declared` may name a table's class when
 * the user's class name differs from the one derived from its SQL name. Nodes come in
 * topological order.
 */
export function drawingOf(
  graph: DependencyGraph,
  shown: ReadonlySet<string>,
  home: string | null,
  declared: (t: TableNode) => string | null = () => null,
): Drawing {
  const order = graph.topoSort().filter((id) => shown.has(id));
  const classNames = new Map(order.map((id) => [id, declared(graph.tables.get(id)!) ?? graph.tables.get(id)!.className]));
  const labels = labelsOf(graph, classNames, home);
  const nodes: DrawnNode[] = order.map((id) => {
    const t = graph.tables.get(id)!;
    const label = labels.get(id)!;
    const prefix = `${t.database}.`;
    return {
      id: label,
      kind: 'table',
      fullName: id,
      tier: t.tier,
      database: t.database,
      text: classNames.get(id) && label.startsWith(prefix) ? label.slice(prefix.length) : label,
      introducesDimension: introducesDimension(graph, id),
      master: t.master && shown.has(t.master) ? labels.get(t.master)! : null,
    };
  });
  const edges: DrawnEdge[] = [];
  for (const e of graph.edges) {
    if (!shown.has(e.parent) || !shown.has(e.child)) continue;
    const from = labels.get(e.parent)!;
    const to = labels.get(e.child)!;
    const style = { primary: e.primary, multi: e.multi, renamed: e.renamed };
    const renames = e.attrMap.filter(([c, p]) => c !== p).map(([c, p]) => `${c} ← ${p}`);
    if (e.alias) {
      // Python draws an alias node only when it sits between two shown tables.
      const database = graph.tables.get(e.child)!.database;
      nodes.push({ id: e.alias, kind: 'alias', fullName: null, tier: null, database, text: '', introducesDimension: false, master: null });
      edges.push({ from, to: e.alias, ...style, masterPart: false, renames }, { from: e.alias, to, ...style, masterPart: false, renames });
    } else {
      edges.push({ from, to, ...style, masterPart: graph.tables.get(e.child)!.master === e.parent, renames });
    }
  }
  const databases = [...new Set(nodes.map((n) => n.database))];
  return { nodes, edges, databases };
}

/** Python's "distinguished" tables: the foreign keys in the primary key do not make up all of it. */
function introducesDimension(graph: DependencyGraph, id: string): boolean {
  const pk = graph.tables.get(id)!.primaryKey;
  if (!pk) return false;
  const inherited = new Set<string>();
  for (const e of graph.edges) if (e.child === id && e.primary) for (const [c] of e.attrMap) inherited.add(c);
  return inherited.size < pk.length && [...inherited].every((c) => pk.includes(c));
}

/** Unique labels: class names, prefixed by the database outside `home`; full names when ambiguous. */
function labelsOf(graph: DependencyGraph, classNames: Map<string, string | null>, home: string | null): Map<string, string> {
  const proposed = new Map<string, string>();
  for (const [id, name] of classNames) {
    const db = graph.tables.get(id)!.database;
    proposed.set(id, !name ? id : db === home ? name : `${db}.${name}`);
  }
  const count = new Map<string, number>();
  for (const l of proposed.values()) count.set(l, (count.get(l) ?? 0) + 1);
  // Alias nodes are numbered; a table label never looks like a number.
  return new Map([...proposed].map(([id, l]) => [id, count.get(l)! > 1 || /^\d+$/.test(l) ? id : l]));
}

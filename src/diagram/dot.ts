/**
 * Graphviz DOT text of a Drawing, laid out as DataJoint Python lays it out: one dashed cluster per
 * schema, tier styles from style.ts, underlined labels for tables that introduce a new primary-key
 * dimension. A master and its shown parts sit together in a shaded, unlabelled cluster so that an
 * entity reads as one group.
 */
import type { DrawnEdge, DrawnNode, Drawing } from './model.js';
import { ENTITY_CLUSTER, FONT_NAME, SCHEMA_CLUSTER, edgeStyle, nodeStyle } from './style.js';

export interface DotOptions {
  /** Layout direction: `TB` (top to bottom, the default) or `LR`. */
  direction?: 'TB' | 'LR' | 'BT' | 'RL';
}

/** A DOT double-quoted string. */
export function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function attrs(a: Record<string, string | number | boolean>): string {
  return `[${Object.entries(a)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !v.startsWith('<<') ? quote(v) : String(v)}`)
    .join(', ')}]`;
}

function nodeLine(n: DrawnNode): string {
  const s = nodeStyle(n.kind, n.tier);
  const label = n.kind === 'alias' ? '' : n.introducesDimension ? `<<u>${html(n.text)}</u>>` : n.text;
  return `${quote(n.id)} ${attrs({
    label,
    shape: s.shape,
    style: 'filled',
    color: s.color,
    fontcolor: s.fontcolor,
    fontsize: s.fontsize,
    fontname: FONT_NAME,
    width: round(s.size),
    height: round(s.size),
    fixedsize: s.fixed ? 'shape' : false,
    tooltip: n.fullName ? `${n.fullName} (${n.tier ?? 'table'})` : 'renamed foreign key',
  })};`;
}

function edgeLine(e: DrawnEdge): string {
  const s = edgeStyle(e);
  const a: Record<string, string | number | boolean> = { ...s };
  if (e.renames.length) a.tooltip = e.renames.join('; ');
  return `${quote(e.from)} -> ${quote(e.to)} ${attrs(a)};`;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** The DOT source of a drawing. */
export function toDot(d: Drawing, opts: DotOptions = {}): string {
  const lines = ['digraph datajoint {', `  graph [rankdir=${opts.direction ?? 'TB'}];`];
  const byDb = new Map<string, DrawnNode[]>(d.databases.map((db) => [db, []]));
  for (const n of d.nodes) byDb.get(n.database)!.push(n);
  d.databases.forEach((db, i) => {
    lines.push(`  subgraph ${quote(`cluster_${db}`)} {`, `    graph ${attrs({ label: db, ...SCHEMA_CLUSTER })};`);
    const nodes = byDb.get(db)!;
    const partsOf = new Map<string, DrawnNode[]>();
    for (const n of nodes) if (n.master) (partsOf.get(n.master) ?? partsOf.set(n.master, []).get(n.master)!).push(n);
    let entity = 0;
    for (const n of nodes) {
      if (n.master) continue; // drawn inside its master's entity
      const parts = partsOf.get(n.id);
      if (!parts) {
        lines.push(`    ${nodeLine(n)}`);
        continue;
      }
      lines.push(`    subgraph ${quote(`cluster_entity_${i}_${entity++}`)} {`, `      graph ${attrs({ label: '', ...ENTITY_CLUSTER })};`);
      for (const m of [n, ...parts]) lines.push(`      ${nodeLine(m)}`);
      lines.push('    }');
    }
    lines.push('  }');
  });
  for (const e of d.edges) lines.push(`  ${edgeLine(e)}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

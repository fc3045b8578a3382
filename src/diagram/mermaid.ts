/**
 * Mermaid flowchart text of a Drawing, as DataJoint Python's `make_mermaid` writes it: a class per
 * tier, one subgraph per schema, solid arrows for foreign keys in the primary key and dotted ones
 * outside it. Mermaid has no small dots, so a renamed foreign key is drawn as one direct arrow
 * coloured orange (`linkStyle`) instead of passing through its alias node.
 */
import type { Drawing } from './model.js';
import type { Tier } from './graph.js';
import { MERMAID_CLASSES, MERMAID_RENAMED_LINK, mermaidShape } from './style.js';

export interface MermaidOptions {
  direction?: 'TB' | 'LR' | 'BT' | 'RL';
}

/** A Mermaid node id: letters, digits and underscores only. */
export const mermaidId = (s: string) => s.replace(/\W/g, '_');

/** Node text, quoted when it holds characters Mermaid would parse. */
const text = (s: string) => (/^[\w. ]+$/.test(s) ? s : `"${s.replace(/"/g, '#quot;')}"`);

export function toMermaid(d: Drawing, opts: MermaidOptions = {}): string {
  const lines = [`flowchart ${opts.direction ?? 'TB'}`];
  for (const [tier, css] of Object.entries(MERMAID_CLASSES) as Array<[Tier, string]>) lines.push(`    classDef ${tier} ${css}`);
  lines.push('');
  for (const db of d.databases) {
    lines.push(`    subgraph ${mermaidId(db)} [${text(db)}]`);
    for (const n of d.nodes) {
      if (n.database !== db || n.kind === 'alias') continue;
      const [l, r] = mermaidShape(n.tier);
      lines.push(`        ${mermaidId(n.id)}${l}${text(n.text)}${r}${n.tier ? `:::${n.tier}` : ''}`);
    }
    lines.push('    end');
  }
  lines.push('');
  // Join the two halves of each renamed key back into one arrow.
  const aliasIn = new Map(d.edges.filter((e) => d.nodes.some((n) => n.kind === 'alias' && n.id === e.to)).map((e) => [e.to, e]));
  const styles: string[] = [];
  let index = 0;
  for (const e of d.edges) {
    if (aliasIn.has(e.to)) continue;
    const from = aliasIn.get(e.from)?.from ?? e.from;
    lines.push(`    ${mermaidId(from)} ${e.primary ? '-->' : '-.->'} ${mermaidId(e.to)}`);
    if (e.renamed) styles.push(`    linkStyle ${index} ${MERMAID_RENAMED_LINK}`);
    index++;
  }
  lines.push(...styles);
  return lines.join('\n') + '\n';
}

/**
 * Diagram graph, styling, DOT and Mermaid output, on a graph built by hand (no server).
 * The schema mirrors the integration test's: every tier, a part, a part that also depends on
 * another master's part, a secondary foreign key, and a renamed foreign key.
 */
import { describe, expect, it } from 'vitest';
import { DependencyGraph } from '../../src/diagram/graph.js';
import { drawingOf } from '../../src/diagram/model.js';
import { quote, toDot } from '../../src/diagram/dot.js';
import { toMermaid } from '../../src/diagram/mermaid.js';
import { TIER_STYLES, edgeStyle, nodeStyle } from '../../src/diagram/style.js';
import type { CatalogForeignKey } from '../../src/diagram/catalog.js';

const DB = 'lab';
const fk = (child: string, parent: string, attrMap: Array<[string, string]>, name = `${child}_${parent}_${attrMap[0]![0]}`, db = DB, pdb = DB): CatalogForeignKey => ({
  name,
  childDatabase: db,
  childTable: child,
  parentDatabase: pdb,
  parentTable: parent,
  attrMap,
});

function labGraph(): DependencyGraph {
  const g = new DependencyGraph();
  g.addTable(DB, 'subject', ['subject_id']);
  g.addTable(DB, '#method', ['method_id']);
  g.addTable(DB, 'session', ['subject_id', 'session_idx']);
  g.addTable(DB, 'session__trial', ['subject_id', 'session_idx', 'trial_idx']);
  g.addTable(DB, '_recording', ['subject_id', 'session_idx']);
  g.addTable(DB, '__analysis', ['subject_id', 'session_idx', 'method_id']);
  g.addTable(DB, '__analysis__detail', ['subject_id', 'session_idx', 'method_id', 'trial_idx']);
  g.addTable(DB, 'pairing', ['subject_id', 'partner_id']);
  g.addTable(DB, '~lineage', ['table_name']); // hidden tables are added only if asked; edges to them are ignored
  g.tables.delete('`lab`.`~lineage`');
  g.addForeignKey(fk('session', 'subject', [['subject_id', 'subject_id']]));
  g.addForeignKey(fk('session', '#method', [['method_id', 'method_id']]));
  g.addForeignKey(fk('session__trial', 'session', [['subject_id', 'subject_id'], ['session_idx', 'session_idx']]));
  g.addForeignKey(fk('_recording', 'session', [['subject_id', 'subject_id'], ['session_idx', 'session_idx']]));
  g.addForeignKey(fk('__analysis', '_recording', [['subject_id', 'subject_id'], ['session_idx', 'session_idx']]));
  g.addForeignKey(fk('__analysis', '#method', [['method_id', 'method_id']]));
  g.addForeignKey(fk('__analysis__detail', '__analysis', [['subject_id', 'subject_id'], ['session_idx', 'session_idx'], ['method_id', 'method_id']]));
  g.addForeignKey(fk('__analysis__detail', 'session__trial', [['subject_id', 'subject_id'], ['session_idx', 'session_idx'], ['trial_idx', 'trial_idx']]));
  g.addForeignKey(fk('pairing', 'subject', [['subject_id', 'subject_id']]));
  g.addForeignKey(fk('pairing', 'subject', [['partner_id', 'subject_id']]));
  g.addForeignKey(fk('pairing', '~lineage', [['x', 'x']]));
  return g;
}

const id = (t: string, db = DB) => `\`${db}\`.\`${t}\``;

describe('DependencyGraph', () => {
  it('reads tiers, masters and class names from SQL names', () => {
    const g = labGraph();
    const t = (n: string) => g.tables.get(id(n))!;
    expect([t('subject').tier, t('#method').tier, t('_recording').tier, t('__analysis').tier, t('session__trial').tier]).toEqual(['manual', 'lookup', 'imported', 'computed', 'part']);
    expect(t('__analysis__detail')).toMatchObject({ tier: 'part', master: id('__analysis'), className: 'Analysis.Detail' });
    expect(t('session__trial').className).toBe('Session.Trial');
    expect(t('#method').className).toBe('Method');
    expect(g.tables.has(id('~lineage'))).toBe(false);
  });

  it('classifies foreign keys: primary, multi, renamed (through an alias node)', () => {
    const g = labGraph();
    const e = (c: string, p: string, col?: string) => g.edges.find((x) => x.child === id(c) && x.parent === id(p) && (!col || x.attrMap[0]![0] === col))!;
    expect(e('session', '#method')).toMatchObject({ primary: false, multi: true, renamed: false, alias: null });
    expect(e('session', 'subject')).toMatchObject({ primary: true, multi: true, renamed: false });
    expect(e('_recording', 'session')).toMatchObject({ primary: true, multi: false });
    const renamed = e('pairing', 'subject', 'partner_id');
    expect(renamed).toMatchObject({ primary: true, renamed: true, alias: '0' });
    expect(g.successors(id('subject'))).toContain('0');
    expect(g.successors('0')).toEqual([id('pairing')]);
    expect(g.edges).toHaveLength(10); // the key to the hidden table is ignored
    g.addForeignKey(fk('session', 'subject', [['subject_id', 'subject_id']])); // same constraint again
    expect(g.edges).toHaveLength(10);
  });

  it('expands by levels; an alias node is not a level', () => {
    const g = labGraph();
    const down = g.boundary(new Set([id('subject')]), 'down');
    expect(down).toEqual(new Set([id('session'), id('pairing'), '0']));
    const up = g.boundary(new Set([id('pairing')]), 'up');
    expect(up).toEqual(new Set([id('subject'), '0']));
    expect(g.boundary(new Set([id('#method'), id('subject')]), 'up').size).toBe(0);
  });

  it('sorts topologically with parts right after their masters', () => {
    const order = labGraph().topoSort();
    expect(order).toEqual([id('#method'), id('subject'), id('pairing'), id('session'), id('session__trial'), id('_recording'), id('__analysis'), id('__analysis__detail')]);
    for (const e of labGraph().edges) expect(order.indexOf(e.parent)).toBeLessThan(order.indexOf(e.child));
  });

  it('refuses cyclic dependencies', () => {
    const g = new DependencyGraph();
    g.addTable(DB, 'a', ['x']);
    g.addTable(DB, 'b', ['x']);
    g.addForeignKey(fk('a', 'b', [['x', 'x']]));
    g.addForeignKey(fk('b', 'a', [['x', 'x']]));
    expect(() => g.topoSort()).toThrow(/acyclic/);
  });
});

describe('drawing model', () => {
  const g = labGraph();
  const all = new Set(g.tables.keys());

  it('labels tables with class names and underlines tables that add key attributes', () => {
    const d = drawingOf(g, all, DB);
    const byId = new Map(d.nodes.map((n) => [n.id, n]));
    expect(d.nodes.filter((n) => n.kind === 'table').map((n) => n.id)).toEqual(['Method', 'Subject', 'Pairing', 'Session', 'Session.Trial', 'Recording', 'Analysis', 'Analysis.Detail']);
    expect(byId.get('Subject')!.introducesDimension).toBe(true);
    expect(byId.get('Session')!.introducesDimension).toBe(true);
    expect(byId.get('Recording')!.introducesDimension).toBe(false);
    expect(byId.get('Analysis')!.introducesDimension).toBe(false);
    expect(byId.get('Pairing')!.introducesDimension).toBe(false); // both key columns come from keys
    expect(byId.get('Session.Trial')!.master).toBe('Session');
    expect(byId.get('0')).toMatchObject({ kind: 'alias', database: DB });
    expect(d.edges.filter((e) => e.to === '0' || e.from === '0').map((e) => [e.from, e.to])).toEqual([['Subject', '0'], ['0', 'Pairing']]);
    expect(d.edges.find((e) => e.to === 'Session.Trial')!.masterPart).toBe(true);
  });

  it('draws an alias node only between two shown tables', () => {
    const d = drawingOf(g, new Set([id('subject'), '0']), DB);
    expect(d.nodes.map((n) => n.id)).toEqual(['Subject']);
    expect(d.edges).toEqual([]);
  });

  it('prefixes tables of other schemas and keeps labels unique', () => {
    const g2 = labGraph();
    g2.addTable('other', 'review', ['subject_id', 'session_idx', 'reviewer']);
    g2.addTable('other', 'subject', ['subject_id']);
    g2.addForeignKey(fk('review', 'session', [['subject_id', 'subject_id'], ['session_idx', 'session_idx']], 'r', 'other', DB));
    const d = drawingOf(g2, new Set(g2.tables.keys()), DB);
    const review = d.nodes.find((n) => n.fullName === id('review', 'other'))!;
    expect(review).toMatchObject({ id: 'other.Review', text: 'Review', database: 'other' });
    expect(d.nodes.find((n) => n.fullName === id('subject', 'other'))!.id).toBe('other.Subject');
    expect(d.databases).toEqual([DB, 'other']);
    // declared class names win over derived ones
    const d2 = drawingOf(g2, new Set(g2.tables.keys()), DB, (t) => (t.name === 'subject' && t.database === DB ? 'Mouse' : null));
    expect(d2.nodes.map((n) => n.id)).toContain('Mouse');
  });

  it('falls back to full names for names DataJoint would not make', () => {
    const g3 = new DependencyGraph();
    g3.addTable(DB, 'Weird-Name', ['x']);
    const d = drawingOf(g3, new Set(g3.tables.keys()), DB);
    expect(d.nodes[0]).toMatchObject({ id: id('Weird-Name'), tier: null, text: id('Weird-Name') });
  });
});

describe('styles', () => {
  it('matches DataJoint Python tier styling', () => {
    expect(TIER_STYLES.manual).toMatchObject({ shape: 'box', color: '#00FF0030', fontcolor: 'darkgreen', fontsize: 12 });
    expect(TIER_STYLES.lookup).toMatchObject({ shape: 'plaintext', color: '#00000020', fontsize: 10 });
    expect(TIER_STYLES.computed).toMatchObject({ shape: 'ellipse', color: '#FF000020', fontcolor: '#7F0000A0' });
    expect(TIER_STYLES.imported).toMatchObject({ shape: 'ellipse', color: '#00007F40', fontcolor: '#00007FA0' });
    expect(TIER_STYLES.part).toMatchObject({ shape: 'plaintext', fontsize: 10 });
    expect(nodeStyle('alias', null)).toMatchObject({ shape: 'circle', color: '#FF880080', fixed: true });
    expect(nodeStyle('table', null).shape).toBe('circle');
    expect(edgeStyle({ primary: true, multi: false, masterPart: false })).toMatchObject({ style: 'solid', penwidth: 2, weight: 1, arrowhead: 'none' });
    expect(edgeStyle({ primary: false, multi: true, masterPart: false })).toMatchObject({ style: 'dashed', penwidth: 0.75 });
    expect(edgeStyle({ primary: true, multi: true, masterPart: true }).weight).toBe(3);
  });
});

describe('DOT', () => {
  const dot = toDot(drawingOf(labGraph(), new Set(labGraph().tables.keys()), DB));

  it('has every node with its tier style, inside its schema cluster', () => {
    expect(dot.startsWith('digraph datajoint {')).toBe(true);
    expect(dot).toContain('rankdir=TB');
    expect(dot).toMatch(/subgraph "cluster_lab" \{\n\s+graph \[label="lab", style="dashed", color="gray", fontcolor="gray"\];/);
    expect(dot).toMatch(/"Subject" \[label=<<u>Subject<\/u>>, shape="box", style="filled", color="#00FF0030", fontcolor="darkgreen", fontsize=12/);
    expect(dot).toMatch(/"Method" \[label=<<u>Method<\/u>>, shape="plaintext", style="filled", color="#00000020"/);
    expect(dot).toMatch(/"Analysis" \[label="Analysis", shape="ellipse", style="filled", color="#FF000020"/);
    expect(dot).toMatch(/"Recording" \[label="Recording", shape="ellipse", style="filled", color="#00007F40"/);
    expect(dot).toMatch(/"0" \[label="", shape="circle", style="filled", color="#FF880080", .*fixedsize="shape"/);
    for (const name of ['Subject', 'Method', 'Session', 'Session.Trial', 'Recording', 'Analysis', 'Analysis.Detail', 'Pairing']) expect(dot).toContain(`"${name}" [`);
  });

  it('groups a master with its parts in an entity cluster', () => {
    const entity = /subgraph "cluster_entity_0_\d+" \{\n\s+graph \[label="", style="rounded,filled"[^\n]*\n\s+"Session" \[[^\n]*\n\s+"Session.Trial" \[/;
    expect(dot).toMatch(entity);
  });

  it('styles edges: solid/dashed, thick/thin, renamed through the alias dot', () => {
    expect(dot).toContain('"Method" -> "Session" [color="#00000040", style="dashed", penwidth=0.75, weight=1, arrowhead="none"];');
    expect(dot).toContain('"Session" -> "Recording" [color="#00000040", style="solid", penwidth=2, weight=1, arrowhead="none"];');
    expect(dot).toContain('"Session" -> "Session.Trial" [color="#00000040", style="solid", penwidth=0.75, weight=3, arrowhead="none"];');
    expect(dot).toContain('"Subject" -> "0" [color="#00000040", style="solid", penwidth=0.75, weight=1, arrowhead="none", tooltip="partner_id ← subject_id"];');
    expect(dot).toContain('"0" -> "Pairing"');
  });

  it('honours the direction and quotes names safely', () => {
    expect(toDot({ nodes: [], edges: [], databases: [] }, { direction: 'LR' })).toContain('rankdir=LR');
    expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});

describe('Mermaid', () => {
  const mmd = toMermaid(drawingOf(labGraph(), new Set(labGraph().tables.keys()), DB));

  it('writes tier classes, a subgraph per schema and every node', () => {
    const lines = mmd.split('\n');
    expect(lines[0]).toBe('flowchart TB');
    expect(lines).toContain('    classDef manual fill:#90EE90,stroke:#006400');
    expect(lines).toContain('    classDef computed fill:#FFB6C1,stroke:#8B0000');
    expect(lines).toContain('    subgraph lab [lab]');
    expect(lines).toContain('        Subject[Subject]:::manual');
    expect(lines).toContain('        Method[Method]:::lookup');
    expect(lines).toContain('        Recording([Recording]):::imported');
    expect(lines).toContain('        Analysis([Analysis]):::computed');
    expect(lines).toContain('        Session_Trial[Session.Trial]:::part');
    expect(mmd).not.toMatch(/\b0\(\(/); // no alias node in Mermaid
  });

  it('draws primary keys solid, secondary dotted, renamed keys as one orange link', () => {
    const lines = mmd.split('\n');
    expect(lines).toContain('    Subject --> Session');
    expect(lines).toContain('    Method -.-> Session');
    const links = lines.filter((l) => /^ {4}\w+ (-->|-\.->) \w+$/.test(l));
    expect(links).toHaveLength(10);
    const renamedIndex = links.findIndex((l, i) => l === '    Subject --> Pairing' && links.indexOf(l) !== i);
    expect(renamedIndex).toBeGreaterThan(0);
    expect(lines).toContain(`    linkStyle ${renamedIndex} stroke:#FF8800`);
    expect(toMermaid({ nodes: [], edges: [], databases: [] }, { direction: 'LR' }).startsWith('flowchart LR')).toBe(true);
  });
});

describe('rendering (WebAssembly Graphviz, resvg)', () => {
  const dot = toDot(drawingOf(labGraph(), new Set(labGraph().tables.keys()), DB));

  it('lays out DOT to SVG with a node group per table and the alias dot', async () => {
    const { dotToSvg } = await import('../../src/diagram/render.js');
    const svg = await dotToSvg(dot);
    const titles = [...svg.matchAll(/<g id="node\d+" class="node">\s*<title>([^<]*)<\/title>/g)].map((m) => m[1]);
    expect(titles.sort()).toEqual(['0', 'Analysis', 'Analysis.Detail', 'Method', 'Pairing', 'Recording', 'Session', 'Session.Trial', 'Subject']);
    expect(svg).toContain('text-decoration="underline"');
  });

  it('reports Graphviz errors as DataJointError', async () => {
    const { dotToSvg } = await import('../../src/diagram/render.js');
    await expect(dotToSvg('digraph { a -> }')).rejects.toThrow(/Graphviz could not lay out the diagram: syntax error/);
  });

  it('rasterizes on white, bounded by maxSide', async () => {
    const { dotToSvg, svgToPng } = await import('../../src/diagram/render.js');
    const svg = await dotToSvg(dot);
    const png = await svgToPng(svg, { maxSide: 400 });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const [w, h] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    expect(Math.max(w, h)).toBeLessThanOrEqual(400);
    expect(Math.min(w, h)).toBeGreaterThan(50);
    const big = await svgToPng(svg);
    expect(big.readUInt32BE(16)).toBeGreaterThan(w); // zoom 2 by default
  });
});

/**
 * dj.Diagram on MariaDB: two schemas declared through the public API, read back from the
 * catalog. Expected node and edge sets are derived by hand from DataJoint Python's semantics
 * (src/datajoint/dependencies.py and diagram.py, alias-node version):
 *
 * - Diagram(schema) shows every table of that database (hidden `~` tables are not nodes);
 * - `+ n` / `- n` add n times the node boundary (children / parents) of what is shown, and an
 *   alias node reached brings the table behind it along (a renamed key is one level);
 * - the graph edges are Python's edges with each `parent → alias → child` pair read as one
 *   renamed foreign key (our `edges()` has no alias nodes; the DOT output has them).
 *
 * Tables (lab = A, review = B):
 *   A.Subject   manual    subject_id
 *   A.Method    lookup    method_id
 *   A.Session   manual    -> Subject, session_idx | -> Method (secondary: dashed)
 *   A.Session.Trial part  -> master, trial_idx
 *   A.Recording imported  -> Session                  (key is the whole primary key: thick)
 *   A.Analysis  computed  -> Recording, -> Method
 *   A.Analysis.Detail part -> master, -> Session.Trial
 *   A.Pairing   manual    -> Subject, -> Subject.proj(partner_id='subject_id')  (renamed: alias node)
 *   A.Cohort    manual    cohort_id | -> [nullable] Subject.proj(leader_id='subject_id')  (renamed only)
 *   B.Review    manual    -> lab.Session, reviewer
 *   B.Score     computed  -> Review
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dj, cleanup } from '../helpers.js';
import { Diagram } from '../../src/diagram/diagram.js';
import { runDiagramCommand } from '../../src/cli/diagram.js';

const dbA = `djtest_diagram_${process.pid}`;
const dbB = `djtest_diagram_b_${process.pid}`;
const lab = dj.schema(dbA);

class Subject extends dj.Manual {
  static definition = `
  subject_id : int32
  ---
  species : varchar(32)
  `;
}
class Method extends dj.Lookup {
  static definition = `
  method_id : uint8
  ---
  method_name : varchar(16)
  `;
  static contents = [[0, 'gauss']];
}
class Session extends dj.Manual {
  static definition = `
  -> Subject
  session_idx : uint16
  ---
  session_date : date
  -> Method
  `;
  static Trial = class extends dj.Part {
    static definition = `
    -> master
    trial_idx : uint16
    ---
    outcome : varchar(8)
    `;
  };
}
class Recording extends dj.Imported {
  static definition = `
  -> Session
  ---
  path : varchar(255)
  `;
}
class Analysis extends dj.Computed {
  static definition = `
  -> Recording
  -> Method
  ---
  result : float64
  `;
  static Detail = class extends dj.Part {
    static definition = `
    -> master
    -> Session.Trial
    ---
    value : float64
    `;
  };
}
class Pairing extends dj.Manual {
  static definition = `
  -> Subject
  -> Subject.proj(partner_id='subject_id')
  ---
  note = '' : varchar(32)
  `;
}
class Cohort extends dj.Manual {
  static definition = `
  cohort_id : int32
  ---
  -> [nullable] Subject.proj(leader_id='subject_id')
  `;
}
for (const c of [Subject, Method, Session, Recording, Analysis, Pairing, Cohort]) lab.add(c);
const review = dj.schema(dbB, { context: { lab: { Subject, Session } } });

class Review extends dj.Manual {
  static definition = `
  -> lab.Session
  reviewer : varchar(16)
  ---
  score : int32
  `;
}
class Score extends dj.Computed {
  static definition = `
  -> Review
  ---
  value : float64
  `;
}
review.add(Review);
review.add(Score);

const A = (t: string) => dj.conn().dialect.fullName(dbA, t);
const B = (t: string) => dj.conn().dialect.fullName(dbB, t);
const S = A('subject'), M = A('#method'), SE = A('session'), T = A('session__trial'), R = A('_recording');
const AN = A('__analysis'), D = A('__analysis__detail'), P = A('pairing'), C = A('cohort'), RV = B('review'), SC = B('__score');
const sorted = (xs: string[]) => [...xs].sort();
type E = { parent: string; child: string; renamed: boolean };
const edgeSet = (es: E[]) => sorted(es.map((e) => `${e.parent} -> ${e.child}${e.renamed ? ' (renamed)' : ''}`));
const ALL_A_EDGES = [
  `${S} -> ${SE}`, `${M} -> ${SE}`, `${SE} -> ${T}`, `${SE} -> ${R}`, `${R} -> ${AN}`, `${M} -> ${AN}`,
  `${AN} -> ${D}`, `${T} -> ${D}`, `${S} -> ${P}`, `${S} -> ${P} (renamed)`, `${S} -> ${C} (renamed)`,
];

const labels = ['Subject', 'Method', 'Session', 'Session.Trial', 'Recording', 'Analysis', 'Analysis.Detail', 'Pairing', 'Cohort'];

let dir: string;
beforeAll(async () => {
  await review.drop({ prompt: false });
  await lab.drop({ prompt: false });
  await lab.declare();
  await review.declare();
  dir = await mkdtemp(join(tmpdir(), 'djdiagram-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await cleanup(lab, review);
});

describe('Diagram node and edge sets (as DataJoint Python)', () => {
  it('Diagram(schema): every table of the schema, its foreign keys, hidden tables excluded', async () => {
    const d = new Diagram(lab);
    expect(sorted(await d.nodes())).toEqual(sorted([S, M, SE, T, R, AN, D, P, C]));
    expect(edgeSet(await d.edges())).toEqual(sorted(ALL_A_EDGES));
    const e = await d.edges();
    const one = (p: string, c: string) => e.filter((x) => x.parent === p && x.child === c);
    expect(one(M, SE)[0]).toMatchObject({ primary: false, multi: true, renamed: false });
    expect(one(SE, R)[0]).toMatchObject({ primary: true, multi: false });
    expect(one(S, P).find((x) => x.renamed)!.attrMap).toEqual([['partner_id', 'subject_id']]);
    expect(await new Diagram(review).nodes()).toEqual([RV, SC]);
  });

  it('Diagram(virtual schema): the tables of its schema, as Diagram(module) in Python', async () => {
    const v = await dj.virtualSchema(dbA);
    expect(sorted(await new dj.Diagram(v).nodes())).toEqual(sorted([S, M, SE, T, R, AN, D, P, C]));
    expect(edgeSet(await new dj.Diagram(v).edges())).toEqual(sorted(ALL_A_EDGES));
    expect(await new dj.Diagram(review).add(v).nodes()).toContain(S);
  });

  it('nodes() are in topological order, parts right after their masters', async () => {
    const nodes = await new Diagram(lab).add(review).nodes();
    const pos = (id: string) => nodes.indexOf(id);
    for (const e of await new Diagram(lab).add(review).edges()) expect(pos(e.parent)).toBeLessThan(pos(e.child));
    expect(pos(T)).toBe(pos(SE) + 1);
    expect(pos(D)).toBe(pos(AN) + 1);
    // Name order breaks ties (Python's order is networkx's): see graph.ts.
    expect(nodes).toEqual([M, S, C, P, SE, T, R, AN, D, RV, SC]);
  });

  it('Diagram(T).up(1): T and its parents (Python: Diagram(T) - 1)', async () => {
    const d = new Diagram(Session).up(1);
    expect(sorted(await d.nodes())).toEqual(sorted([SE, S, M]));
    expect(edgeSet(await d.edges())).toEqual(sorted([`${S} -> ${SE}`, `${M} -> ${SE}`]));
    expect(sorted(await new Diagram(Session).up(2).nodes())).toEqual(sorted([SE, S, M])); // no more ancestors
    expect(sorted(await new Diagram(Analysis.Detail).up(1).nodes())).toEqual(sorted([D, AN, T]));
  });

  it('Diagram(T).down(2): two levels of descendants, into the other schema', async () => {
    const d = new Diagram(Session).down(2);
    expect(sorted(await d.nodes())).toEqual(sorted([SE, T, R, RV, D, AN, SC]));
    expect(edgeSet(await d.edges())).toEqual(sorted([`${SE} -> ${T}`, `${SE} -> ${R}`, `${SE} -> ${RV}`, `${T} -> ${D}`, `${R} -> ${AN}`, `${AN} -> ${D}`, `${RV} -> ${SC}`]));
    expect(sorted(await new Diagram(Session).down(1).nodes())).toEqual(sorted([SE, T, R, RV]));
  });

  it('up() from one schema reaches into the schema it depends on', async () => {
    const d = new Diagram(review).up(1);
    expect(sorted(await d.nodes())).toEqual(sorted([RV, SC, SE]));
    expect(edgeSet(await d.edges())).toEqual(sorted([`${SE} -> ${RV}`, `${RV} -> ${SC}`]));
    expect(sorted(await new Diagram(review).up(2).nodes())).toEqual(sorted([RV, SC, SE, S, M]));
    // Labels: the diagram's own schema unprefixed, the other schema's tables as `db.Class`.
    const dot = await d.toDot();
    expect(dot).toContain(`"${dbA}.Session" [label=<<u>Session</u>>`);
    expect(dot).toContain('"Review" [label=<<u>Review</u>>');
    expect(dot).toContain(`"${dbA}.Session" -> "Review"`);
  });

  it('a renamed foreign key is one level, not two (the alias node is crossed)', async () => {
    // Cohort's only key to Subject is renamed: Subject → alias → Cohort.
    expect(sorted(await new Diagram(Subject).down(1).nodes())).toEqual(sorted([S, SE, P, C]));
    expect(edgeSet(await new Diagram(Subject).down(1).edges())).toEqual(sorted([`${S} -> ${SE}`, `${S} -> ${P}`, `${S} -> ${P} (renamed)`, `${S} -> ${C} (renamed)`]));
    expect(sorted(await new Diagram(Cohort).up(1).nodes())).toEqual(sorted([C, S]));
    expect(sorted(await new Diagram(Pairing).up(1).nodes())).toEqual(sorted([P, S]));
    const e = (await new Diagram(Cohort).up(1).edges())[0]!;
    expect(e).toMatchObject({ parent: S, child: C, primary: false, renamed: true, attrMap: [['leader_id', 'subject_id']] });
  });

  it('add / remove: set union and difference with diagrams, tables and schemas', async () => {
    const base = new Diagram(lab);
    expect(sorted(await new Diagram(Subject).add(Method).nodes())).toEqual(sorted([S, M]));
    expect(await new Diagram(Subject).add(Method).edges()).toEqual([]);
    expect(sorted(await base.remove(new Diagram(Session.Trial)).nodes())).toEqual(sorted([S, M, SE, R, AN, D, P, C]));
    expect(sorted(await base.remove(Session).nodes())).toEqual(sorted([S, M, T, R, AN, D, P, C]));
    const both = base.add(review);
    expect(sorted(await both.nodes())).toEqual(sorted([S, M, SE, T, R, AN, D, P, C, RV, SC]));
    expect(edgeSet(await both.edges())).toEqual(sorted([...ALL_A_EDGES, `${SE} -> ${RV}`, `${RV} -> ${SC}`]));
    expect(sorted(await both.remove(lab).nodes())).toEqual(sorted([RV, SC]));
    // Python: Diagram(T) + 1 - 1 may differ from Diagram(T) - 1 + 1
    expect(sorted(await new Diagram(Recording).down(1).up(1).nodes())).toEqual(sorted([R, AN, SE, M]));
    expect(sorted(await new Diagram(Recording).up(1).down(1).nodes())).toEqual(sorted([R, SE, AN, T, RV]));
    expect(sorted(await new Diagram(Session).addParts().nodes())).toEqual(sorted([SE, T]));
  });

  it('operations return new diagrams and leave the receiver unchanged', async () => {
    const d = new Diagram(Session);
    const up = d.up(1);
    const plus = d.add(Subject);
    expect(await d.nodes()).toEqual([SE]);
    expect(sorted(await up.nodes())).toEqual(sorted([SE, S, M]));
    expect(sorted(await plus.nodes())).toEqual(sorted([S, SE]));
    expect(await d.nodes()).toEqual([SE]);
    expect(await new Diagram(new Session()).nodes()).toEqual([SE]); // a table instance
    expect(await new Diagram(d).nodes()).toEqual([SE]); // a copy
  });

  it('rejects bad input clearly', async () => {
    expect(() => new Diagram(42 as never)).toThrow(dj.DataJointError);
    expect(() => new Diagram({ nothing: true } as never)).toThrow(/expected a schema, a table or a diagram/);
    expect(() => new Diagram(lab).up(-1)).toThrow(/non-negative integer/);
    expect(() => new Diagram(lab).down(1.5)).toThrow(dj.DataJointError);
    const other = new dj.Connection({ host: '127.0.0.1' });
    try {
      expect(() => new Diagram(lab).add({ database: dbA, connection: other })).toThrow(/different connections/);
    } finally {
      await other.close();
    }
    await expect(new Diagram({ database: dbA, tableName: 'no_such_table', connection: dj.conn() }).nodes()).rejects.toThrow(dj.MissingTableError);
    await expect(new Diagram(lab).save(join(dir, 'x.pdf'))).rejects.toThrow(/\.svg, \.png, \.dot or \.mmd/);
    await expect(new Diagram(lab).toDot({ direction: 'XY' as never })).rejects.toThrow(/direction/);
  });
});

describe('Diagram outputs', () => {

  it('DOT has every node, the alias dot, schema clusters and Python edge styles', async () => {
    const dot = await new Diagram(lab).add(review).toDot();
    for (const l of labels) expect(dot).toContain(`"${l}" [`);
    expect(dot).toContain(`"${dbB}.Review" [label=<<u>Review</u>>`);
    expect(dot).toContain(`subgraph "cluster_${dbA}"`);
    expect(dot).toContain(`subgraph "cluster_${dbB}"`);
    expect(dot).toMatch(/"Subject" -> "\d+" \[.*tooltip="partner_id ← subject_id"\]/);
    expect(dot).toContain('"Method" -> "Session" [color="#00000040", style="dashed", penwidth=0.75');
    expect(dot).toContain('"Session" -> "Recording" [color="#00000040", style="solid", penwidth=2');
    expect(await new Diagram(lab).toDot({ direction: 'LR' })).toContain('rankdir=LR');
  });

  it('Mermaid has every node with its tier class', async () => {
    const mmd = await new Diagram(lab).toMermaid();
    expect(mmd.startsWith('flowchart TB')).toBe(true);
    for (const l of labels) expect(mmd).toContain(`${l.replace('.', '_')}`);
    expect(mmd).toContain('Analysis([Analysis]):::computed');
    expect(mmd).toContain('Method[Method]:::lookup');
    expect(mmd).toContain('Session_Trial[Session.Trial]:::part');
  });

  it('SVG is valid and has a node group per table (plus the alias dots)', async () => {
    const svg = await new Diagram(lab).toSvg();
    expect(svg).toContain('<svg');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const nodes = [...svg.matchAll(/<g id="node\d+" class="node">\s*<title>([^<]*)<\/title>/g)].map((m) => m[1]!.replace(/&#45;/g, '-'));
    expect(sorted(nodes.filter((n) => !/^\d+$/.test(n)))).toEqual(sorted(labels));
    expect(nodes.filter((n) => /^\d+$/.test(n))).toHaveLength(2);
    expect([...svg.matchAll(/class="edge"/g)]).toHaveLength(13); // 11 keys, the 2 renamed ones in two halves
    const w = Number(/<svg width="([\d.]+)pt"/.exec(svg)![1]);
    expect(w).toBeGreaterThan(100);
  });

  it('PNG has the signature and a sensible size', async () => {
    const png = await new Diagram(lab).toPng();
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const width = png.readUInt32BE(16), height = png.readUInt32BE(20);
    expect(width).toBeGreaterThan(300);
    expect(height).toBeGreaterThan(300);
    expect(Math.max(width, height)).toBeLessThanOrEqual(4096);
    const small = await new Diagram(lab).toPng({ maxSide: 500 });
    expect(Math.max(small.readUInt32BE(16), small.readUInt32BE(20))).toBeLessThanOrEqual(500);
  });

  it('save() writes each format by extension', async () => {
    const d = new Diagram(lab);
    for (const ext of ['svg', 'png', 'dot', 'mmd']) await d.save(join(dir, `lab.${ext}`));
    expect(await readFile(join(dir, 'lab.svg'), 'utf8')).toContain('<svg');
    expect((await readFile(join(dir, 'lab.png'))).subarray(1, 4).toString()).toBe('PNG');
    expect(await readFile(join(dir, 'lab.dot'), 'utf8')).toMatch(/^digraph datajoint \{/);
    expect(await readFile(join(dir, 'lab.mmd'), 'utf8')).toMatch(/^flowchart TB/);
  });
});

describe('dj diagram <db>', () => {
  it('prints DOT, writes a file with -o, and fails clearly for a missing schema', async () => {
    let out = '';
    let err = '';
    const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
    expect(await runDiagramCommand(dbA, io)).toBe(0);
    expect(out).toMatch(/^digraph datajoint \{/);
    for (const l of labels) expect(out).toContain(`"${l}" [`);
    const file = join(dir, 'cli.svg');
    expect(await runDiagramCommand(dbA, { ...io, output: file })).toBe(0);
    expect(await readFile(file, 'utf8')).toContain('<svg');
    expect(await runDiagramCommand(`djtest_nosuch_${process.pid}`, io)).toBe(1);
    expect(err).toMatch(/does not exist/);
    expect(await runDiagramCommand(dbA, { ...io, output: join(dir, 'x.jpg') })).toBe(1);
    expect(err).toMatch(/\.svg, \.png, \.dot or \.mmd/);
  });
});

/**
 * Cost of drawing a diagram, by stage, on synthetic pipelines of 20, 100 and 300 tables (every
 * tier, parts, renamed keys): the drawing model + DOT text (pure TypeScript: the baseline),
 * the Graphviz layout in WebAssembly (DOT → SVG), and rasterizing with resvg (SVG → PNG).
 * Each stage is reported in ms and as a multiple of the baseline; the one-time cost of loading
 * the WebAssembly module is reported apart. No database needed.
 *   npx tsx bench/diagram.bench.ts
 */
import { Bench } from 'tinybench';
import { DependencyGraph } from '../src/diagram/graph.js';
import { drawingOf } from '../src/diagram/model.js';
import { toDot } from '../src/diagram/dot.js';
import { dotToSvg, svgToPng } from '../src/diagram/render.js';
import { machine } from './common.js';

/** A layered pipeline: each table references one or two tables of the previous layers. */
function pipeline(n: number): DependencyGraph {
  const g = new DependencyGraph();
  const prefixes = ['', '#', '_', '__'];
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const isPart = i > 4 && i % 7 === 0;
    const name = isPart ? `${names[i - 1]!.replace(/__\w+$/, '')}__part${i}` : `${prefixes[i % 4]}t${i}`;
    names.push(name);
    g.addTable('bench', name, [`k${i}`]);
    if (i === 0) continue;
    const p1 = isPart ? names[i - 1]!.replace(/__part\d+$/, '') : names[Math.floor(i / 2)]!;
    g.addForeignKey({ name: `fk${i}a`, childDatabase: 'bench', childTable: name, parentDatabase: 'bench', parentTable: p1, attrMap: [[`k${i}`, `k${i}`]] });
    if (i % 5 === 0) {
      const p2 = names[Math.floor(i / 3)]!;
      if (p2 !== p1) g.addForeignKey({ name: `fk${i}b`, childDatabase: 'bench', childTable: name, parentDatabase: 'bench', parentTable: p2, attrMap: [[`r${i}`, `k${i}`]] });
    }
  }
  return g;
}

const t0 = performance.now();
await dotToSvg('digraph { a -> b }');
const loadMs = performance.now() - t0;

console.log(machine(`WebAssembly Graphviz load + first layout: ${loadMs.toFixed(0)} ms`));
console.log('| tables | model + DOT (baseline) | layout DOT → SVG | SVG → PNG | PNG size |');
console.log('|---|---|---|---|---|');
for (const n of [20, 100, 300]) {
  const g = pipeline(n);
  const shown = new Set(g.tables.keys());
  const dot = toDot(drawingOf(g, shown, 'bench'));
  const svg = await dotToSvg(dot);
  const png = await svgToPng(svg);
  const bench = new Bench({ iterations: n > 100 ? 3 : 10, warmupIterations: 1, time: 0 });
  bench.add('dot', () => void toDot(drawingOf(g, shown, 'bench')));
  bench.add('svg', async () => void (await dotToSvg(dot)));
  bench.add('png', async () => void (await svgToPng(svg)));
  await bench.run();
  const ms = (name: string) => {
    const r = bench.tasks.find((t) => t.name === name)!.result as { latency: { p50?: number; mean: number } };
    return r.latency.p50 ?? r.latency.mean;
  };
  const base = ms('dot');
  const cell = (name: string) => `${ms(name).toFixed(1)} ms (${(ms(name) / base).toFixed(0)}×)`;
  console.log(`| ${n} | ${base.toFixed(2)} ms (1×) | ${cell('svg')} | ${cell('png')} | ${png.readUInt32BE(16)}×${png.readUInt32BE(20)} |`);
}

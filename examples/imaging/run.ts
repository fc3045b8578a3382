/**
 * The main job: `npm run demo`. Runs the calcium-imaging pipeline end to end on the configured
 * backend (with nothing configured: the embedded PostgreSQL server, no database to install) and
 * a file object store under .datajoint/store, then prints what it did, how long it took with
 * processes 1 and N, and how well it recovered the simulated cells. Sizes:
 *   npm run demo -- --scans 8 --frames 500 --size 128 --processes 4 [--gzip] [--quiet]
 *   npm run demo -- --figures-only      (re-draw the figures from the tables of the last run)
 * Figures go to examples/out/imaging-summary.png and imaging-scans.png.
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as dj from '../../src/index.js';
import { checkAndDraw, DEFAULTS, runMainJob } from './job.js';
import { schema } from './pipeline.js';

const { values: args } = parseArgs({
  options: {
    scans: { type: 'string' },
    frames: { type: 'string' },
    size: { type: 'string' },
    processes: { type: 'string' },
    gzip: { type: 'boolean', default: false },
    'figures-only': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});
const num = (v: string | undefined, d: number) => (v === undefined ? d : Math.max(1, Math.floor(Number(v)) || d));

async function main() {
  if (!dj.config.isSet('stores.default')) {
    // A file store under the project, unless datajoint.json or DJ_* settings name one.
    const location = fileURLToPath(new URL('../../.datajoint/store', import.meta.url));
    mkdirSync(location, { recursive: true });
    dj.config.set('stores', { default: 'imaging', imaging: { protocol: 'file', location } });
  }
  const opts = {
    ...DEFAULTS,
    scans: num(args.scans, DEFAULTS.scans),
    frames: num(args.frames, DEFAULTS.frames),
    size: Math.max(32, num(args.size, DEFAULTS.size)),
    // More threads than scans would only start idle workers.
    processes: num(args.processes, Math.max(2, Math.min(availableParallelism(), num(args.scans, DEFAULTS.scans)))),
    gzip: args.gzip,
    outDir: fileURLToPath(new URL('../out/', import.meta.url)),
    progress: !args.quiet,
    log: (line: string) => console.log(line),
  };
  const { backend } = dj.conn().options;
  const store = dj.config.get<Record<string, { location?: string }>>('stores');
  const where = store[String(store.default)]?.location;
  console.log(`DataJoint main job: calcium imaging on the ${backend} backend, schema ${schema.database}, object store ${where ?? String(store.default)}\n`);
  if (args['figures-only']) {
    const { figures } = await checkAndDraw(opts.outDir);
    for (const f of figures) console.log(`wrote ${f}`);
    if (!figures.length) console.log('No scans in the tables: run `npm run demo` first.');
    return dj.closeAll();
  }
  const r = await runMainJob(opts);
  const [one, many] = r.runs as [(typeof r.runs)[0], (typeof r.runs)[0]];
  const found = r.scans.reduce((a, s) => a + s.found, 0);
  const active = r.scans.reduce((a, s) => a + s.active, 0);
  const falseRois = r.scans.reduce((a, s) => a + s.falseRois, 0);
  const corr = r.scans.map((s) => s.medianTraceCorr).sort((a, b) => a - b)[r.scans.length >> 1]!;
  console.log(`\ncells: ${found} of ${active} active simulated cells found in ${r.scans.length} scans, ${falseRois} false detections; median ΔF/F correlation with the true calcium signal ${corr.toFixed(3)}`);
  console.log(`motion: ${r.scans.reduce((a, s) => a + s.shiftErrors, 0)} frames of ${r.scans.length * opts.frames} off the simulated displacement`);
  console.log(`\nprocesses 1: ${one.seconds.toFixed(2)} s   processes ${many.processes}: ${many.seconds.toFixed(2)} s   speedup ×${r.speedup.toFixed(2)}   identical results: ${r.identical}`);
  // Speedups need idle cores: say when other processes were competing for them.
  const load = loadavg()[0]!;
  const cores = availableParallelism();
  if (load > cores * 0.75) console.log(`(load average ${load.toFixed(1)} on ${cores} cores during the run: other processes competed for the cores)`);
  console.log(`end to end ${r.seconds.toFixed(1)} s (acquisition ${r.acquireSeconds.toFixed(1)} s), peak RSS ${r.peakRssMB.toFixed(0)} MB`);
  for (const f of r.figures) console.log(`wrote ${f}`);
  await dj.closeAll();
  if (!r.identical) process.exitCode = 1;
}

main().catch(async (err) => {
  console.error(err);
  await dj.closeAll();
  process.exit(1);
});

/**
 * The main job, end to end: a fresh schema, simulated scans acquired into Zarr, the analysis
 * populated once with `processes: 1` and once with `processes: N` (results compared bit for
 * bit, times per table), the results checked against the simulation's truth, and the summary
 * figures written. `npm run demo` (run.ts) prints its report; the test and the benchmark call
 * `runMainJob` with their own sizes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as dj from '../../src/index.js';
import { acquire, type AcquireOptions } from './acquire.js';
import { decodeTruth, digest, evaluateScan, type ScanEvaluation } from './evaluate.js';
import { scanFigurePng, type Circle, type ScanFigure } from './figure.js';
import { overviewPng } from './overview.js';
import { Fluorescence, MAX_SHIFT, MotionCorrection, rowMajor, Scan, schema, Segmentation, vector } from './pipeline.js';

export interface MainJobOptions extends AcquireOptions {
  /** Worker threads of the second run (the first uses 1). */
  processes: number;
  /** Where the figures go; null writes none. */
  outDir: string | null;
  /** Progress bars on stderr. */
  progress: boolean;
  log: (line: string) => void;
}

export const DEFAULTS: AcquireOptions = { scans: 8, frames: 500, size: 128, cells: 18, fps: 15, maxShift: 3, chunkFrames: 50 };

/** The analysis tables, upstream first. */
const STEPS = { MotionCorrection, Segmentation, Fluorescence } as const;

export interface RunTiming {
  processes: number;
  seconds: number;
  perTable: Record<string, number>;
  digest: string;
}

export interface MainJobReport {
  acquireSeconds: number;
  rawBytes: number;
  storedBytes: number;
  runs: RunTiming[];
  identical: boolean;
  speedup: number;
  scans: Array<{ key: Record<string, number> } & Omit<ScanEvaluation, 'cellOf' | 'offsetY' | 'offsetX'>>;
  figures: string[];
  seconds: number;
  peakRssMB: number;
}

const since = (t0: number) => (performance.now() - t0) / 1000;

/** Every result row, in key order, as one digest. */
async function resultsDigest(): Promise<string> {
  const rows = [];
  for (const t of [MotionCorrection, Segmentation, Segmentation.Roi, Fluorescence, Fluorescence.Trace]) rows.push(...(await t.toDicts({ orderBy: 'KEY' })));
  return digest(rows);
}

async function populateAll(processes: number, progress: boolean, log: (line: string) => void): Promise<RunTiming> {
  const perTable: Record<string, number> = {};
  const t0 = performance.now();
  for (const [name, table] of Object.entries(STEPS)) {
    const t1 = performance.now();
    const r = await table.populate({ processes, displayProgress: progress });
    perTable[name] = since(t1);
    log(`  ${name.padEnd(17)} ${String(r.success).padStart(3)} makes  ${perTable[name]!.toFixed(2).padStart(6)} s`);
  }
  return { processes, seconds: since(t0), perTable, digest: await resultsDigest() };
}

/** What the figure of one scan shows, read back from the tables. */
async function scanResults(key: Record<string, number>) {
  const scan = (await Scan.restrict(key).fetch1('fps', 'n_frames', 'height', 'width', 'truth')) as [number, number, number, number, unknown];
  const [fps, frames, height, width] = scan;
  const truth = decodeTruth(scan[4]);
  const mc = (await MotionCorrection.restrict(key).fetch1()) as Record<string, unknown>;
  const rois = await Segmentation.Roi.restrict(key).toDicts({ orderBy: 'roi_idx' });
  const traces = await Fluorescence.Trace.restrict(key).toDicts({ orderBy: 'roi_idx' });
  const yShift = vector(mc.y_shifts, Int16Array);
  const xShift = vector(mc.x_shifts, Int16Array);
  const results = rois.map((r, i) => ({
    roiIdx: r.roi_idx as number,
    centerY: r.center_y as number,
    centerX: r.center_x as number,
    mask: vector(r.mask, Uint32Array),
    dff: vector(traces[i]!.dff, Float32Array),
    snr: traces[i]!.snr as number,
  }));
  const evaluation = evaluateScan(truth, yShift, xShift, results);
  return { fps, frames, height, width, truth, yShift, xShift, mc, results, evaluation };
}

type ScanResults = Awaited<ReturnType<typeof scanResults>>;

/** Simulated cells no ROI is on, where the corrected images show them: those that fired, or the silent ones. */
function unfound(s: ScanResults, fired: boolean): Circle[] {
  const { truth, evaluation: e } = s;
  const found = new Set(e.cellOf.values());
  const out: Circle[] = [];
  for (let c = 0; c < truth.y.length; c++)
    if (truth.spikes[c]! > 0 === fired && !found.has(c)) out.push({ y: truth.y[c]! + e.offsetY, x: truth.x[c]! + e.offsetX, r: truth.radius[c]! });
  return out;
}

function figureOf(key: Record<string, number>, s: ScanResults): ScanFigure {
  const { truth, evaluation: e, yShift, xShift } = s;
  const spikesOf = (c: number) => Array.from(truth.spikeFrame).filter((_, k) => truth.spikeCell[k] === c);
  return {
    title: `Mouse ${key.mouse_id}, session ${key.session_idx}, scan ${key.scan_idx}: ${s.frames} frames of ${s.height} × ${s.width} px at ${s.fps} Hz (${(s.frames / s.fps).toFixed(0)} s)`,
    footer:
      `Against the simulation: ${e.found} of ${e.active} active cells found, ${e.falseRois} false detections; ` +
      `ΔF/F vs. true calcium signal: median r = ${e.medianTraceCorr.toFixed(3)}; motion: ${s.frames - e.shiftErrors} of ${s.frames} frames exact.`,
    height: s.height,
    width: s.width,
    fps: s.fps,
    mean: rowMajor(s.mc.mean_image),
    max: rowMajor(s.mc.max_image),
    corr: rowMajor(s.mc.corr_image),
    yShift,
    xShift,
    trueY: Int16Array.from(truth.dy, (v) => v + e.offsetY),
    trueX: Int16Array.from(truth.dx, (v) => v + e.offsetX),
    maxShift: MAX_SHIFT,
    rois: s.results.map((r) => ({ ...r, spikes: e.cellOf.has(r.roiIdx) ? spikesOf(e.cellOf.get(r.roiIdx)!) : null })),
    missed: unfound(s, true),
    silent: unfound(s, false),
  };
}

/**
 * Score every scan in the tables against its simulation and, with an `outDir`, draw the figures
 * (the summary of the first scan and the overview of all). Reads only the tables, so it can
 * re-draw the figures of an earlier run (`npm run demo -- --figures-only`).
 */
export async function checkAndDraw(outDir: string | null): Promise<{ scans: MainJobReport['scans']; figures: string[] }> {
  const scans: MainJobReport['scans'] = [];
  const figures: string[] = [];
  const all = [];
  const keys = (await Scan.keys({ orderBy: 'KEY' })) as Array<Record<string, number>>;
  for (const k of keys) {
    const key = { mouse_id: k.mouse_id!, session_idx: k.session_idx!, scan_idx: k.scan_idx! };
    const r = await scanResults(key);
    const { cellOf: _, offsetY: _y, offsetX: _x, ...e } = r.evaluation;
    scans.push({ key, ...e });
    all.push({ key, r });
  }
  if (outDir && all.length) {
    mkdirSync(outDir, { recursive: true });
    const first = all[0]!;
    const summary = join(outDir, 'imaging-summary.png');
    writeFileSync(summary, await scanFigurePng(figureOf(first.key, first.r)));
    const overview = join(outDir, 'imaging-scans.png');
    writeFileSync(overview, await overviewPng(all.map(({ key, r }) => ({ key, corr: rowMajor(r.mc.corr_image), height: r.height, width: r.width, masks: r.results.map((x) => x.mask), evaluation: r.evaluation, missed: unfound(r, true) }))));
    figures.push(summary, overview);
  }
  return { scans, figures };
}

export async function runMainJob(o: MainJobOptions): Promise<MainJobReport> {
  const t0 = performance.now();
  const log = o.log;
  // A fresh start: the previous run's rows go with the schema, its Zarr arrays with dj.gc.
  await schema.drop({ prompt: false });
  await schema.declare();
  const gc = await dj.gc({ schemas: [schema], dryRun: false });
  if (gc.deleted) log(`removed ${gc.deleted} objects (${(gc.bytes / 2 ** 20).toFixed(0)} MiB) of an earlier run from the store (dj.gc)`);

  const ta = performance.now();
  const { rawBytes, storedBytes } = await acquire(o);
  const acquireSeconds = since(ta);
  log(
    `acquired ${o.scans} scans (${o.frames} frames of ${o.size}×${o.size} uint16 each) into Zarr through Scan.stagedInsert1: ` +
      `${(rawBytes / 2 ** 20).toFixed(0)} MiB of frames, ${(storedBytes / 2 ** 20).toFixed(0)} MiB stored${o.gzip ? ' (gzip)' : ''}, ${acquireSeconds.toFixed(1)} s`,
  );

  log(`\nanalysis with processes: 1`);
  const one = await populateAll(1, o.progress, log);
  log(`  total ${one.seconds.toFixed(2)} s`);
  await MotionCorrection.delete({ prompt: false });
  log(`analysis again with processes: ${o.processes} (makeCompute on worker threads; the movie moves there by transfer)`);
  const many = await populateAll(o.processes, o.progress, log);
  log(`  total ${many.seconds.toFixed(2)} s`);
  const identical = one.digest === many.digest;
  const speedup = one.seconds / many.seconds;
  log(`results identical for processes 1 and ${o.processes}: ${identical} (sha256 ${many.digest.slice(0, 16)}…); speedup ×${speedup.toFixed(2)}`);

  const { scans, figures } = await checkAndDraw(o.outDir);
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  return { acquireSeconds, rawBytes, storedBytes, runs: [one, many], identical, speedup, scans, figures, seconds: since(t0), peakRssMB };
}

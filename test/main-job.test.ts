/**
 * The main job (examples/imaging/, `npm run demo`) end to end in a small configuration on this
 * project's backend: simulated scans acquired as Zarr arrays through stagedInsert1, the three
 * three-part analysis tables populated with processes 1 and then 2 with bit-identical results,
 * every result row present, the movie readable lazily, and both figures written as PNG.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import { dj } from './helpers.js';
import { closeStores } from '../src/stores/registry.js';

const database = `djtest_mainjob_${process.pid}`;
process.env.DJ_IMAGING_SCHEMA = database;
const { runMainJob } = await import('../examples/imaging/job.js');
const p = await import('../examples/imaging/pipeline.js');
const { simulate } = await import('../examples/imaging/synth.js');

const size = { scans: 3, frames: 60, size: 48, cells: 5, fps: 15, maxShift: 2, chunkFrames: 25 };
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), `djtest_mainjob_${process.pid}_`));
  mkdirSync(join(root, 'store'));
  dj.config.set('stores', { default: 'main', main: { protocol: 'file', location: join(root, 'store'), fsync: false } });
});

afterAll(async () => {
  await p.schema.drop({ prompt: false }).catch(() => {});
  await dj.closeAll();
  await closeStores();
  rmSync(root, { recursive: true, force: true });
});

describe('the main job, small', () => {
  let report: Awaited<ReturnType<typeof runMainJob>>;
  const lines: string[] = [];

  it('runs end to end with processes 1 and 2 and gets identical results', async () => {
    report = await runMainJob({ ...size, processes: 2, outDir: join(root, 'out'), progress: false, log: (l) => lines.push(l) });
    expect(report.runs.map((r) => r.processes)).toEqual([1, 2]);
    expect(report.runs[0]!.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(report.runs[1]!.digest).toBe(report.runs[0]!.digest);
    expect(report.identical).toBe(true);
    expect(Object.keys(report.runs[1]!.perTable)).toEqual(['MotionCorrection', 'Segmentation', 'Fluorescence']);
    expect(report.speedup).toBeGreaterThan(0);
    expect(report.peakRssMB).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(/results identical for processes 1 and 2: true/);
  }, 180_000);

  it('stored every result: one row per scan and table, a trace for every ROI', async () => {
    for (const t of [p.Scan, p.MotionCorrection, p.Segmentation, p.Fluorescence]) expect(await t.count()).toBe(size.scans);
    const rois = await p.Segmentation.Roi.count();
    expect(rois).toBeGreaterThan(0);
    expect(await p.Fluorescence.Trace.count()).toBe(rois);
    const nRois = (await p.Segmentation.toDicts()).reduce((a, r) => a + (r.n_rois as number), 0);
    expect(nRois).toBe(rois);
    const trace = (await p.Fluorescence.Trace.restrict({ mouse_id: 1, session_idx: 1, scan_idx: 1, roi_idx: 0 }).fetch1('dff')) as dj.NDArray;
    expect(trace.data).toHaveLength(size.frames);
    expect(report.scans).toHaveLength(size.scans);
    expect(report.scans.every((s) => s.rois >= 0 && s.active >= s.found)).toBe(true);
  });

  it('keeps each movie as a Zarr array in the store, read back lazily as simulated', async () => {
    const ref = (await p.Scan.restrict({ mouse_id: 1, session_idx: 1, scan_idx: 2 }).fetch1('movie')) as dj.ObjectRef;
    expect(ref).toBeInstanceOf(dj.ObjectRef);
    expect(ref.isDir).toBe(true);
    expect(ref.ext).toBe('.zarr');
    const arr = (await ref.zarr({ kind: 'array' })) as zarr.Array<'uint16', dj.ZarrReadStore>;
    expect(arr.shape).toEqual([size.frames, size.size, size.size]);
    expect(arr.chunks).toEqual([size.chunkFrames, size.size, size.size]);
    // Scan 2 of the run has seed 1001; frames 25–49 are its second chunk.
    const expected = simulate({ frames: size.frames, height: size.size, width: size.size, fps: size.fps, cells: size.cells, maxShift: size.maxShift, seed: 1001 }).render(25, 50);
    const got = await zarr.get(arr, [zarr.slice(25, 50), null, null]);
    expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it('writes the summary and overview figures as PNG', () => {
    expect(report.figures.map((f) => f.split('/').pop())).toEqual(['imaging-summary.png', 'imaging-scans.png']);
    for (const f of report.figures) {
      const png = readFileSync(f);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.readUInt32BE(16)).toBeGreaterThan(500); // width
    }
    expect(readFileSync(report.figures[0]!).readUInt32BE(16)).toBe(1500);
  });

  it('a second run starts afresh and removes the first run\'s objects from the store', async () => {
    const lines2: string[] = [];
    const again = await runMainJob({ ...size, scans: 1, processes: 2, outDir: null, progress: false, log: (l) => lines2.push(l) });
    expect(again.identical).toBe(true);
    expect(again.figures).toEqual([]);
    expect(lines2.join('\n')).toMatch(/removed \d+ objects .* of an earlier run/);
    expect(await p.Scan.count()).toBe(1);
    const gc = await dj.gc({ schemas: [p.schema] });
    expect(gc.orphaned).toBe(0);
  }, 120_000);
});

/**
 * "Acquisition": simulated scans written into the pipeline as a microscope would write them,
 * block by block of frames straight into a Zarr array in the object store through
 * `Scan.stagedInsert1` (the row is inserted once the array is complete; a failure leaves
 * neither row nor objects). The simulation's ground truth goes into the row beside the movie.
 */
import * as dj from '../../src/index.js';
import { Mouse, Scan, Session } from './pipeline.js';
import { simulate, type GroundTruth, type RecordingSpec } from './synth.js';

export interface AcquireOptions {
  scans: number;
  frames: number;
  /** Frame height and width, pixels. */
  size: number;
  cells: number;
  fps: number;
  maxShift: number;
  /** Frames per Zarr chunk (and per block written). */
  chunkFrames: number;
  /**
   * gzip the chunks. Off by default: noisy 16-bit frames shrink only ~1.6× and decoding them
   * costs more CPU than a local disk saves (measured: 250 ms vs. 30 ms to read a 16 MiB scan);
   * worth it on a slow network store.
   */
  gzip?: boolean;
}

/** Scan s of the run: 2 scans per session, 2 sessions per mouse. */
export function scanKey(s: number): { mouse_id: number; session_idx: number; scan_idx: number } {
  return { mouse_id: Math.floor(s / 4) + 1, session_idx: (Math.floor(s / 2) % 2) + 1, scan_idx: (s % 2) + 1 };
}

/** The ground truth as a blob value (a struct, as DataJoint Python would read it). */
function truthBlob(t: GroundTruth, frames: number): Record<string, unknown> {
  const cells = t.y.length;
  return {
    y: t.y,
    x: t.x,
    radius: t.radius,
    spikes: t.spikes,
    spike_cell: t.spikeCell,
    spike_frame: t.spikeFrame,
    calcium: new dj.NDArray({ dtype: 'float32', shape: [cells, frames], data: t.calcium, order: 'C' }),
    dy: t.dy,
    dx: t.dx,
  };
}

/** Write `opts.scans` simulated scans; returns the bytes of movie written (before compression). */
export async function acquire(opts: AcquireOptions): Promise<{ rawBytes: number; storedBytes: number }> {
  const zarr = await import('zarrita');
  const keys = Array.from({ length: opts.scans }, (_, s) => scanKey(s));
  const mice = [...new Set(keys.map((k) => k.mouse_id))];
  await Mouse.insert(mice.map((mouse_id) => ({ mouse_id, dob: `2024-0${(mouse_id % 9) + 1}-15`, sex: mouse_id % 2 ? 'F' : 'M' })));
  const sessions = [...new Map(keys.map((k) => [`${k.mouse_id}/${k.session_idx}`, k])).values()];
  await Session.insert(
    sessions.map((k) => ({ mouse_id: k.mouse_id, session_idx: k.session_idx, session_date: `2025-03-${String(k.session_idx + 10 * (k.mouse_id % 2)).padStart(2, '0')}`, experimenter: 'ada' })),
  );
  const { frames, size, chunkFrames } = opts;
  let storedBytes = 0;
  for (let s = 0; s < opts.scans; s++) {
    const spec: RecordingSpec = { frames, height: size, width: size, fps: opts.fps, cells: opts.cells, maxShift: opts.maxShift, seed: 1000 + s };
    const sim = simulate(spec);
    await Scan.stagedInsert1(async (staged) => {
      Object.assign(staged.rec, keys[s], { depth: 150 + 25 * s, fps: opts.fps, n_frames: frames, height: size, width: size, truth: truthBlob(sim.truth, frames) });
      const arr = await zarr.create(staged.store('movie', '.zarr'), {
        shape: [frames, size, size],
        chunkShape: [chunkFrames, size, size],
        dtype: 'uint16',
        codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, ...(opts.gzip ? [{ name: 'gzip', configuration: { level: 1 } }] : [])],
      });
      for (let t0 = 0; t0 < frames; t0 += chunkFrames) {
        const t1 = Math.min(frames, t0 + chunkFrames);
        await zarr.set(arr, [zarr.slice(t0, t1), null, null], { data: sim.render(t0, t1), shape: [t1 - t0, size, size], stride: [size * size, size, 1] });
      }
    });
    const ref = (await Scan.restrict(keys[s]!).fetch1('movie')) as dj.ObjectRef;
    storedBytes += ref.size ?? 0;
  }
  return { rawBytes: opts.scans * frames * size * size * 2, storedBytes };
}

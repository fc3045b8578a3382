/**
 * Checks of the main job's results: how well the analysis recovered what the simulation planted
 * (cells found, false detections, ΔF/F against the true calcium signal, motion), and a digest of
 * every result row, so that runs with different numbers of processes can be compared bit for bit.
 */
import { createHash, type Hash } from 'node:crypto';
import * as dj from '../../src/index.js';
import type { GroundTruth } from './synth.js';

/** The stored ground truth of a scan, decoded: what the simulation planted. */
export type Truth = GroundTruth;

const data = <A>(v: unknown): A => ((v as dj.NDArray).toOrder('C').data as unknown) as A;

export function decodeTruth(blob: unknown): Truth {
  const b = blob as Record<string, unknown>;
  return {
    y: Float64Array.from(data<Float64Array>(b.y)),
    x: Float64Array.from(data<Float64Array>(b.x)),
    radius: Float64Array.from(data<Float64Array>(b.radius)),
    spikes: Uint32Array.from(data<Uint32Array>(b.spikes)),
    spikeCell: Uint16Array.from(data<Uint16Array>(b.spike_cell ?? new dj.NDArray({ dtype: 'uint16', shape: [0], data: new Uint16Array(0) }))),
    spikeFrame: Uint32Array.from(data<Uint32Array>(b.spike_frame ?? new dj.NDArray({ dtype: 'uint32', shape: [0], data: new Uint32Array(0) }))),
    calcium: Float32Array.from(data<Float32Array>(b.calcium)),
    dy: Int16Array.from(data<Int16Array>(b.dy)),
    dx: Int16Array.from(data<Int16Array>(b.dx)),
  };
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let s = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    s += (a[i]! - ma) * (b[i]! - mb);
    sa += (a[i]! - ma) ** 2;
    sb += (b[i]! - mb) ** 2;
  }
  return sa > 0 && sb > 0 ? s / Math.sqrt(sa * sb) : 0;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

export interface RoiResult {
  roiIdx: number;
  centerY: number;
  centerX: number;
  dff: Float32Array;
}

export interface ScanEvaluation {
  /** Simulated cells that fired at least once (the detectable ones). */
  active: number;
  /** Active cells with a detected ROI on them. */
  found: number;
  rois: number;
  /** ROIs on no simulated cell. */
  falseRois: number;
  /** Median correlation of a found cell's ΔF/F with its true calcium signal. */
  medianTraceCorr: number;
  /** Frames whose estimated displacement differs from the truth (beyond a constant offset). */
  shiftErrors: number;
  /** ROI index → simulated cell index. */
  cellOf: Map<number, number>;
  /** Where the motion-free scene sits in the corrected images: corrected (y, x) = scene (y − offsetY, x − offsetX). */
  offsetY: number;
  offsetX: number;
}

/**
 * Compare a scan's results with its truth. Estimated shifts equal the true ones up to a
 * constant (the reference image's own position), which also offsets the cell positions.
 */
export function evaluateScan(truth: Truth, yShift: Int16Array, xShift: Int16Array, rois: RoiResult[]): ScanEvaluation {
  const T = truth.dy.length;
  const oy = median(Array.from(yShift, (v, t) => v - truth.dy[t]!));
  const ox = median(Array.from(xShift, (v, t) => v - truth.dx[t]!));
  let shiftErrors = 0;
  for (let t = 0; t < T; t++) if (yShift[t]! - truth.dy[t]! !== oy || xShift[t]! - truth.dx[t]! !== ox) shiftErrors++;
  // Greedy matching, closest pairs first, within a cell's radius (at least 3 px).
  const pairs: Array<[number, number, number]> = [];
  for (const r of rois)
    for (let c = 0; c < truth.y.length; c++) {
      const d = Math.hypot(r.centerY - (truth.y[c]! + oy), r.centerX - (truth.x[c]! + ox));
      if (d <= Math.max(3, truth.radius[c]!)) pairs.push([d, r.roiIdx, c]);
    }
  pairs.sort((a, b) => a[0] - b[0]);
  const cellOf = new Map<number, number>();
  const taken = new Set<number>();
  for (const [, roi, c] of pairs) {
    if (cellOf.has(roi) || taken.has(c)) continue;
    cellOf.set(roi, c);
    taken.add(c);
  }
  const active = Array.from(truth.spikes).filter((n) => n > 0).length;
  const found = [...taken].filter((c) => truth.spikes[c]! > 0).length;
  const corrs = rois.filter((r) => cellOf.has(r.roiIdx)).map((r) => pearson(r.dff, truth.calcium.subarray(cellOf.get(r.roiIdx)! * T, (cellOf.get(r.roiIdx)! + 1) * T)));
  return { active, found, rois: rois.length, falseRois: rois.length - cellOf.size, medianTraceCorr: median(corrs), shiftErrors, cellOf, offsetY: oy, offsetX: ox };
}

function feed(h: Hash, v: unknown): void {
  if (v instanceof dj.NDArray) {
    h.update(`nd:${v.dtype}:${v.shape.join('x')}:${v.order}:`);
    return feed(h, v.data);
  }
  if (ArrayBuffer.isView(v)) return void h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  if (v instanceof Date) return void h.update(`d${v.toISOString()}`);
  if (Array.isArray(v)) {
    h.update(`[${v.length}`);
    for (const x of v) feed(h, x);
    return;
  }
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v).sort()) {
      h.update(`${k}=`);
      feed(h, (v as Record<string, unknown>)[k]);
    }
    return;
  }
  h.update(`${typeof v}:${String(v)};`);
}

/** SHA-256 of rows (in the given order), over every value's bytes. */
export function digest(rows: Array<Record<string, unknown>>): string {
  const h = createHash('sha256');
  for (const r of rows) feed(h, r);
  return h.digest('hex');
}

/**
 * Motion correction and summary images: the CPU-heavy first step of the imaging analysis.
 *
 * The brain moves under the microscope, so a pixel does not always see the same piece of
 * tissue. Each frame's rigid displacement is found by cross-correlating the frame with a
 * high-passed reference image over every integer shift up to `maxShift`; the reference is
 * refined once (the mean of the movie corrected in the first pass). From the corrected movie
 * come the summary images: the mean, the maximum (of a 4-frame running mean, so that it shows
 * activity rather than noise) and the local correlation image (how much each pixel's time course
 * agrees with its 8 neighbours: high on active cells, near zero on background noise), on which
 * cells are then detected.
 */
import { gaussianBlur } from './image.js';

/** A movie as typed data: frames × height × width, row-major. */
export interface Movie {
  data: Uint16Array;
  frames: number;
  height: number;
  width: number;
}

/**
 * Per-frame displacement of the tissue (pixels): the corrected frame is
 * corrected(y, x) = raw(y − yShift, x − xShift) (edges clamped).
 */
export interface Shifts {
  yShift: Int16Array;
  xShift: Int16Array;
}

export interface SummaryImages {
  mean: Float32Array;
  max: Float32Array;
  corr: Float32Array;
}

const clamp = (v: number, hi: number) => (v < 0 ? 0 : v > hi ? hi : v);

/** Mean over frames [t0, t1) of the movie, each frame moved back by its shift. */
function meanImage(m: Movie, shifts: Shifts | null, t0 = 0, t1 = m.frames): Float32Array {
  const { height: H, width: W } = m;
  const acc = new Float64Array(H * W);
  for (let t = t0; t < t1; t++) {
    const sy = shifts ? shifts.yShift[t]! : 0;
    const sx = shifts ? shifts.xShift[t]! : 0;
    const base = t * H * W;
    for (let i = 0; i < H; i++) {
      const row = base + clamp(i - sy, H - 1) * W;
      for (let j = 0; j < W; j++) acc[i * W + j]! += m.data[row + clamp(j - sx, W - 1)]!;
    }
  }
  const out = new Float32Array(H * W);
  for (let p = 0; p < out.length; p++) out[p] = acc[p]! / Math.max(1, t1 - t0);
  return out;
}

/** Score of "the tissue moved by (dy, dx)" in the frame at `base`: Σ raw(i − dy, j − dx) · ref(i, j). */
function score(data: ArrayLike<number>, base: number, ref: Float32Array, H: number, W: number, margin: number, dy: number, dx: number): number {
  let acc = 0;
  for (let i = margin; i < H - margin; i++) {
    const fr = base + (i - dy) * W - dx;
    const rr = i * W;
    for (let j = margin; j < W - margin; j++) acc += data[fr + j]! * ref[rr + j]!;
  }
  return acc;
}

/** 2 × 2 block means of a height × width image at `base` of `data`. */
function halve(data: ArrayLike<number>, base: number, H: number, W: number): Float32Array {
  const h = H >> 1;
  const w = W >> 1;
  const out = new Float32Array(h * w);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      const p = base + 2 * i * W + 2 * j;
      out[i * w + j] = (data[p]! + data[p + 1]! + data[p + W]! + data[p + W + 1]!) / 4;
    }
  return out;
}

/**
 * The shift of every frame against `reference`, coarse to fine: every shift up to maxShift / 2
 * on 2 × 2-binned images, then the 3 × 3 neighbourhood of the winner at full resolution.
 */
export function estimateShifts(m: Movie, reference: Float32Array, maxShift: number): Shifts {
  const { frames: T, height: H, width: W } = m;
  // High-pass the reference: vessels and cell edges locate a frame; the vignetting would not.
  const low = gaussianBlur(reference, H, W, 4);
  const ref = new Float32Array(H * W);
  for (let p = 0; p < ref.length; p++) ref[p] = reference[p]! - low[p]!;
  const h = H >> 1;
  const w = W >> 1;
  const refHalf = halve(ref, 0, H, W);
  const coarse = Math.ceil(maxShift / 2);
  const yShift = new Int16Array(T);
  const xShift = new Int16Array(T);
  for (let t = 0; t < T; t++) {
    const base = t * H * W;
    const small = halve(m.data, base, H, W);
    let best = -Infinity;
    let cy = 0;
    let cx = 0;
    for (let dy = -coarse; dy <= coarse; dy++)
      for (let dx = -coarse; dx <= coarse; dx++) {
        const v = score(small, 0, refHalf, h, w, coarse, dy, dx);
        if (v > best) [best, cy, cx] = [v, dy, dx];
      }
    best = -Infinity;
    let by = 0;
    let bx = 0;
    for (let dy = Math.max(-maxShift, 2 * cy - 1); dy <= Math.min(maxShift, 2 * cy + 1); dy++)
      for (let dx = Math.max(-maxShift, 2 * cx - 1); dx <= Math.min(maxShift, 2 * cx + 1); dx++) {
        const v = score(m.data, base, ref, H, W, maxShift, dy, dx);
        if (v > best) [best, by, bx] = [v, dy, dx];
      }
    yShift[t] = by;
    xShift[t] = bx;
  }
  return { yShift, xShift };
}

/** The middle of the range of shifts: where a search window covers them all best. */
const midrange = (a: Int16Array) => Math.round((Math.min(...a) + Math.max(...a)) / 2);

/**
 * Two passes: against a block of early frames, then against the mean of the movie corrected by
 * the first pass and moved to the middle of the tissue's range of positions, so that the search
 * window of the second pass covers the motion on both sides.
 */
export function correctMotion(m: Movie, maxShift: number): Shifts {
  const first = estimateShifts(m, meanImage(m, null, 0, Math.min(m.frames, 20)), maxShift);
  const my = midrange(first.yShift);
  const mx = midrange(first.xShift);
  const centred = { yShift: first.yShift.map((v) => v - my), xShift: first.xShift.map((v) => v - mx) };
  return estimateShifts(m, meanImage(m, centred), maxShift);
}

/** Mean, maximum and local-correlation images of the motion-corrected movie. */
export function summaryImages(m: Movie, shifts: Shifts): SummaryImages {
  const { frames: T, height: H, width: W } = m;
  const n = H * W;
  // The corrected movie, as float: reused by the three images.
  const z = new Float32Array(T * n);
  for (let t = 0; t < T; t++) {
    const sy = shifts.yShift[t]!;
    const sx = shifts.xShift[t]!;
    for (let i = 0; i < H; i++) {
      const row = t * n + clamp(i - sy, H - 1) * W;
      for (let j = 0; j < W; j++) z[t * n + i * W + j] = m.data[row + clamp(j - sx, W - 1)]!;
    }
  }
  // Frame-major loops throughout: each pass reads the movie in memory order.
  const s1 = new Float64Array(n);
  const run = new Float64Array(n);
  const max = new Float32Array(n).fill(-Infinity);
  for (let t = 0; t < T; t++) {
    const f = t * n;
    for (let p = 0; p < n; p++) {
      const v = z[f + p]!;
      s1[p]! += v;
      // Maximum of a 4-frame running mean: activity stands out, single noisy samples do not.
      run[p]! += v - (t >= 4 ? z[f - 4 * n + p]! : 0);
      if (t >= Math.min(3, T - 1) && run[p]! / Math.min(4, t + 1) > max[p]!) max[p] = run[p]! / Math.min(4, t + 1);
    }
  }
  const mean = new Float32Array(n);
  for (let p = 0; p < n; p++) mean[p] = s1[p]! / T;
  const s2 = new Float64Array(n);
  for (let t = 0; t < T; t++)
    for (let p = 0; p < n; p++) {
      const d = z[t * n + p]! - mean[p]!;
      s2[p]! += d * d;
    }
  const sd = new Float32Array(n);
  for (let p = 0; p < n; p++) sd[p] = Math.sqrt(s2[p]! / T);
  // z-score in place, then correlate each pixel with its 8 neighbours (4 directions, both ways).
  for (let t = 0; t < T; t++)
    for (let p = 0; p < n; p++) z[t * n + p] = sd[p]! > 0 ? (z[t * n + p]! - mean[p]!) / sd[p]! : 0;
  const acc = new Float64Array(n);
  for (let t = 0; t < T; t++) {
    const f = t * n;
    for (const [di, dj] of [[0, 1], [1, 0], [1, 1], [1, -1]] as const)
      for (let i = 0; i + di < H; i++)
        for (let j = Math.max(0, -dj); j < W && j + dj < W; j++) {
          const p = i * W + j;
          const q = p + di * W + dj;
          const prod = z[f + p]! * z[f + q]!;
          acc[p]! += prod;
          acc[q]! += prod;
        }
  }
  const count = new Uint8Array(n);
  for (const [di, dj] of [[0, 1], [1, 0], [1, 1], [1, -1]] as const)
    for (let i = 0; i + di < H; i++)
      for (let j = Math.max(0, -dj); j < W && j + dj < W; j++) {
        count[i * W + j]!++;
        count[(i + di) * W + j + dj]!++;
      }
  // Near the edges, motion correction repeats the outermost pixels of a frame, which then agree
  // perfectly with each other: no correlation is reported within the largest shift of an edge.
  let by = 0;
  let bx = 0;
  for (let t = 0; t < T; t++) {
    by = Math.max(by, Math.abs(shifts.yShift[t]!));
    bx = Math.max(bx, Math.abs(shifts.xShift[t]!));
  }
  const corr = new Float32Array(n);
  for (let i = by; i < H - by; i++)
    for (let j = bx; j < W - bx; j++) {
      const p = i * W + j;
      corr[p] = count[p] ? acc[p]! / (T * count[p]!) : 0;
    }
  return { mean, max, corr };
}

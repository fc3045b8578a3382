/**
 * Cell detection on the local correlation image: active cells are the places where
 * neighbouring pixels brighten and dim together. Seeds are the local maxima of the smoothed
 * correlation image above a threshold; each seed, strongest first, grows into the connected
 * pixels that keep at least `growFraction` of its correlation, within `maxRadius` of it and not
 * claimed by a stronger cell. Regions smaller than `minArea` pixels are dropped.
 */
import { gaussianBlur } from './image.js';

export interface SegmentationParams {
  /** Smallest (smoothed) correlation of a seed. */
  corrThreshold: number;
  /** Smallest region kept, in pixels. */
  minArea: number;
  /** Farthest a region extends from its seed, in pixels. */
  maxRadius: number;
  /** A pixel joins a region if its correlation is at least this fraction of the seed's. */
  growFraction: number;
}

/** One detected region of interest. */
export interface Roi {
  /** Row-major pixel indices (y · width + x), ascending. */
  mask: Uint32Array;
  centerY: number;
  centerX: number;
  area: number;
  /** Smoothed correlation at the seed. */
  peakCorr: number;
}

export function detectCells(corr: Float32Array, height: number, width: number, params: SegmentationParams): Roi[] {
  const H = height;
  const W = width;
  const s = gaussianBlur(corr, H, W, 1);
  // Seeds: strict local maxima in a 5 × 5 window (cells are ≥ 7 px across).
  const seeds: number[] = [];
  for (let i = 2; i < H - 2; i++)
    for (let j = 2; j < W - 2; j++) {
      const v = s[i * W + j]!;
      if (v < params.corrThreshold) continue;
      let peak = true;
      for (let di = -2; di <= 2 && peak; di++)
        for (let dj = -2; dj <= 2; dj++) {
          if (!di && !dj) continue;
          const u = s[(i + di) * W + j + dj]!;
          // Ties go to the earlier pixel, so a plateau yields one seed.
          if (u > v || (u === v && (di < 0 || (di === 0 && dj < 0)))) {
            peak = false;
            break;
          }
        }
      if (peak) seeds.push(i * W + j);
    }
  seeds.sort((a, b) => s[b]! - s[a]! || a - b);

  const owner = new Int32Array(H * W).fill(-1);
  const rois: Roi[] = [];
  const stack: number[] = [];
  for (const seed of seeds) {
    if (owner[seed] !== -1) continue;
    const sy = Math.floor(seed / W);
    const sx = seed % W;
    const floor = Math.max(params.growFraction * s[seed]!, params.corrThreshold * params.growFraction);
    const id = rois.length;
    const region: number[] = [];
    stack.length = 0;
    stack.push(seed);
    owner[seed] = id;
    while (stack.length) {
      const p = stack.pop()!;
      region.push(p);
      const y = Math.floor(p / W);
      const x = p % W;
      for (const [dy, dx] of [[-1, 0], [1, 0], [0, -1], [0, 1]] as const) {
        const ny = y + dy;
        const nx = x + dx;
        if (ny < 0 || nx < 0 || ny >= H || nx >= W) continue;
        const q = ny * W + nx;
        if (owner[q] !== -1 || s[q]! < floor || Math.hypot(ny - sy, nx - sx) > params.maxRadius) continue;
        owner[q] = id;
        stack.push(q);
      }
    }
    if (region.length < params.minArea) {
      // Too small to be a cell: give its pixels back (a weaker seed may not take them either).
      for (const p of region) owner[p] = -2;
      continue;
    }
    region.sort((a, b) => a - b);
    let cy = 0;
    let cx = 0;
    for (const p of region) {
      cy += Math.floor(p / W);
      cx += p % W;
    }
    rois.push({ mask: Uint32Array.from(region), centerY: cy / region.length, centerX: cx / region.length, area: region.length, peakCorr: s[seed]! });
  }
  return rois;
}

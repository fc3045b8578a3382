/**
 * Fluorescence traces and ΔF/F, per detected cell. A cell's raw trace F is the mean of its mask
 * pixels in each motion-corrected frame. Light from the out-of-focus haze around it (neuropil)
 * leaks into every cell, so the mean of a ring around the cell (other cells excluded) is
 * subtracted with the customary weight 0.7. The baseline F0 is the "maximin" of the smoothed
 * trace (a sliding minimum, then a sliding maximum), which follows slow drifts but not the
 * calcium transients; ΔF/F = (F − F0) / F0. The SNR compares the transients to the
 * frame-to-frame noise.
 */
import { percentile, slidingExtreme, smoothTrace } from './image.js';
import type { Movie, Shifts } from './register.js';

export const NEUROPIL_WEIGHT = 0.7;

export interface CellTrace {
  /** Raw mean fluorescence of the mask. */
  f: Float32Array;
  /** Mean fluorescence of the surrounding ring. */
  neuropil: Float32Array;
  /** (F − 0.7 · neuropil − F0) / F0. */
  dff: Float32Array;
  /** 99th percentile of ΔF/F over the noise of its frame-to-frame differences. */
  snr: number;
}

/** Pixels of a ring around a cell: 2 to 8 px outside its radius, away from every cell. */
export function neuropilRing(mask: Uint32Array, height: number, width: number, taken: Uint8Array): Uint32Array {
  let cy = 0;
  let cx = 0;
  for (const p of mask) {
    cy += Math.floor(p / width);
    cx += p % width;
  }
  cy /= mask.length;
  cx /= mask.length;
  const r = Math.sqrt(mask.length / Math.PI);
  const inner = r + 2;
  const outer = r + 8;
  const out: number[] = [];
  for (let i = Math.max(0, Math.floor(cy - outer)); i <= Math.min(height - 1, Math.ceil(cy + outer)); i++)
    for (let j = Math.max(0, Math.floor(cx - outer)); j <= Math.min(width - 1, Math.ceil(cx + outer)); j++) {
      const d = Math.hypot(i - cy, j - cx);
      if (d >= inner && d <= outer && !taken[i * width + j]) out.push(i * width + j);
    }
  return Uint32Array.from(out);
}

/** Every mask pixel and its 8 neighbours: what neuropil rings must avoid. */
export function takenMap(masks: Uint32Array[], height: number, width: number): Uint8Array {
  const taken = new Uint8Array(height * width);
  for (const mask of masks)
    for (const p of mask) {
      const y = Math.floor(p / width);
      const x = p % width;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const ny = y + dy;
          const nx = x + dx;
          if (ny >= 0 && nx >= 0 && ny < height && nx < width) taken[ny * width + nx] = 1;
        }
    }
  return taken;
}

/** Mean over `pixels` of each motion-corrected frame. */
function meanTrace(m: Movie, shifts: Shifts, pixels: Uint32Array): Float32Array {
  const { frames: T, height: H, width: W } = m;
  const out = new Float32Array(T);
  if (!pixels.length) return out;
  for (let t = 0; t < T; t++) {
    const sy = shifts.yShift[t]!;
    const sx = shifts.xShift[t]!;
    const base = t * H * W;
    let acc = 0;
    for (const p of pixels) {
      const y = Math.min(H - 1, Math.max(0, Math.floor(p / W) - sy));
      const x = Math.min(W - 1, Math.max(0, (p % W) - sx));
      acc += m.data[base + y * W + x]!;
    }
    out[t] = acc / pixels.length;
  }
  return out;
}

export function extractTraces(m: Movie, shifts: Shifts, masks: Uint32Array[], fps: number): CellTrace[] {
  const taken = takenMap(masks, m.height, m.width);
  const window = Math.max(3, Math.round(10 * fps));
  return masks.map((mask) => {
    const f = meanTrace(m, shifts, mask);
    const neuropil = meanTrace(m, shifts, neuropilRing(mask, m.height, m.width, taken));
    const corrected = new Float32Array(f.length);
    for (let t = 0; t < f.length; t++) corrected[t] = f[t]! - NEUROPIL_WEIGHT * neuropil[t]!;
    const smooth = smoothTrace(corrected, 0.3 * fps);
    const f0 = slidingExtreme(slidingExtreme(smooth, window, 'min'), window, 'max');
    const dff = new Float32Array(f.length);
    for (let t = 0; t < f.length; t++) {
      const base = Math.max(1, f0[t]!);
      dff[t] = (corrected[t]! - base) / base;
    }
    const diffs = new Float32Array(Math.max(0, dff.length - 1));
    for (let t = 1; t < dff.length; t++) diffs[t - 1] = Math.abs(dff[t]! - dff[t - 1]!);
    const noise = (1.4826 * percentile(diffs, 50)) / Math.SQRT2;
    const snr = noise > 0 ? percentile(dff, 99) / noise : 0;
    return { f, neuropil, dff, snr: Number.isFinite(snr) ? snr : 0 };
  });
}

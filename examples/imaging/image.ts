/**
 * Small numeric helpers shared by the analysis steps: separable Gaussian blur of a row-major
 * image, percentiles, and sliding-window minimum/maximum of a trace. Plain loops over typed
 * arrays: they run inside populate's worker threads and must give bit-identical results on
 * every thread, so nothing here depends on timing or on the thread it runs on.
 */

/** Gaussian blur of a height × width row-major image (edges clamped). */
export function gaussianBlur(img: Float32Array, height: number, width: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  const tmp = new Float32Array(img.length);
  const out = new Float32Array(img.length);
  for (let i = 0; i < height; i++)
    for (let j = 0; j < width; j++) {
      let acc = 0;
      for (let t = -r; t <= r; t++) acc += k[t + r]! * img[i * width + Math.min(width - 1, Math.max(0, j + t))]!;
      tmp[i * width + j] = acc;
    }
  for (let i = 0; i < height; i++)
    for (let j = 0; j < width; j++) {
      let acc = 0;
      for (let t = -r; t <= r; t++) acc += k[t + r]! * tmp[Math.min(height - 1, Math.max(0, i + t)) * width + j]!;
      out[i * width + j] = acc;
    }
  return out;
}

/** Gaussian smoothing of a 1-D trace (edges clamped). */
export function smoothTrace(x: Float32Array, sigma: number): Float32Array {
  return sigma <= 0 ? Float32Array.from(x) : gaussianBlur(x, 1, x.length, sigma);
}

/** The q-th percentile (0–100) of the values, by sorting a copy. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  if (!s.length) return NaN;
  const pos = (Math.min(100, Math.max(0, q)) / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (pos - lo) * (s[hi]! - s[lo]!);
}

/** Minimum (or maximum) of x over a centred window of `window` samples. */
export function slidingExtreme(x: Float32Array, window: number, kind: 'min' | 'max'): Float32Array {
  const half = Math.max(0, Math.floor(window / 2));
  const out = new Float32Array(x.length);
  const better = kind === 'min' ? (a: number, b: number) => a < b : (a: number, b: number) => a > b;
  for (let t = 0; t < x.length; t++) {
    let v = x[Math.max(0, t - half)]!;
    for (let u = Math.max(0, t - half) + 1; u <= Math.min(x.length - 1, t + half); u++) if (better(x[u]!, v)) v = x[u]!;
    out[t] = v;
  }
  return out;
}

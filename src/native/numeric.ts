/**
 * Native element reordering for the blob codec, used only where it pays (measured in
 * bench/blob-native.bench.ts, 100 MB float64: 2-D C→F 2×, 3-D 10×, 2-D uint8 5× faster than the
 * blocked TypeScript transpose). Plain copies of F-ordered data and complex re/im splitting
 * are memory-bound and stay in TypeScript (the addon gained ≤ 1.3× there).
 */
import { native } from './index.js';
import type { TypedArray } from '../blob/dtype.js';

type Typed = TypedArray;

/** Below this many elements the N-API call costs more than the TypeScript loop saves. */
export const NATIVE_TRANSPOSE_MIN = 256;

/**
 * Reorder `data` (elements of `width` consecutive array entries, e.g. 2 for interleaved
 * complex) from `from` order to the other order, writing `out`; same contract as
 * `transposeInto` in src/blob/transpose.ts. Returns false, doing nothing, when the addon is not
 * loaded, the arrays are not typed arrays, overlap, or are too small to gain; the caller then
 * runs its TypeScript path.
 */
export function transposeNative(
  data: Typed | unknown[],
  out: Typed | unknown[],
  shape: readonly number[],
  from: 'C' | 'F',
  width: number,
): boolean {
  if (!native || Array.isArray(data) || Array.isArray(out)) return false;
  if (data.length < NATIVE_TRANSPOSE_MIN || data.length !== out.length) return false;
  if (data.buffer === out.buffer) return false;
  const itemsize = data.BYTES_PER_ELEMENT * width;
  // F-ordered bytes of `shape` are the C-ordered bytes of the reversed shape.
  const dims = from === 'C' ? shape : [...shape].reverse();
  native.reverseAxes(data, out, dims, itemsize);
  return true;
}

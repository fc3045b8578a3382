/**
 * Reordering array data between Fortran (column-major, as blobs store it) and C (row-major)
 * order, used by `NDArray.toOrder` and by the encoder for C-order arrays. Large typed arrays go
 * to the native addon when it is loaded (src/native/numeric.ts); otherwise a blocked 2-D
 * transpose, or a strided walk for other ranks.
 */
import { transposeNative } from '../native/numeric.js';
import type { Order, TypedArray } from './dtype.js';

/**
 * Copy `data` (stored in `from` order for `shape`) into the other order. `width` is the
 * number of data slots per element (2 for interleaved complex).
 */
export function transposeData<T extends TypedArray | unknown[]>(data: T, shape: readonly number[], from: Order, width: number): T {
  const n = data.length;
  const out = (Array.isArray(data) ? new Array<unknown>(n) : new (data.constructor as new (n: number) => TypedArray)(n)) as T;
  transposeInto(data, out, shape, from, width);
  return out;
}

/** Like transposeData, writing into `out` (same length as `data`). */
export function transposeInto(data: TypedArray | unknown[], out: TypedArray | unknown[], shape: readonly number[], from: Order, width: number): void {
  if (transposeNative(data, out, shape, from, width)) return;
  const n = data.length;
  const nd = shape.length;
  if (nd === 2) {
    // C [R, C] is row-major R×C; F [R, C] is row-major C×R. Either way: a blocked 2-D transpose.
    const [r, c] = from === 'C' ? [shape[0]!, shape[1]!] : [shape[1]!, shape[0]!];
    transpose2d(data as unknown as Indexable, out as unknown as Indexable, r, c, width);
    return;
  }
  // Walk destination positions in order, tracking the source offset with strides.
  const srcStride = new Array<number>(nd);
  let s = 1;
  if (from === 'C') {
    for (let k = nd - 1; k >= 0; k--) {
      srcStride[k] = s;
      s *= shape[k]!;
    }
  } else {
    for (let k = 0; k < nd; k++) {
      srcStride[k] = s;
      s *= shape[k]!;
    }
  }
  // Destination order: the fastest axis is 0 for F, nd-1 for C.
  const axes = from === 'C' ? [...Array(nd).keys()] : [...Array(nd).keys()].reverse();
  const counter = new Array<number>(nd).fill(0);
  const size = n / width;
  let src = 0;
  const o = out as unknown as { [i: number]: unknown };
  const d = data as unknown as { readonly [i: number]: unknown };
  for (let dst = 0; dst < size; dst++) {
    for (let w = 0; w < width; w++) o[dst * width + w] = d[src * width + w];
    for (const ax of axes) {
      counter[ax]!++;
      src += srcStride[ax]!;
      if (counter[ax]! < shape[ax]!) break;
      src -= srcStride[ax]! * shape[ax]!;
      counter[ax] = 0;
    }
  }
}

type Indexable = { [i: number]: unknown };

/** dst[(j * rows + i) * w + k] = src[(i * cols + j) * w + k], in cache-friendly 64×64 tiles. */
function transpose2d(src: Indexable, dst: Indexable, rows: number, cols: number, w: number): void {
  const B = 64;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(i0 + B, rows);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(j0 + B, cols);
      for (let j = j0; j < j1; j++) {
        // Walk a tile column: contiguous writes, reads strided by one source row.
        let d = (j * rows + i0) * w;
        let s = (i0 * cols + j) * w;
        const step = cols * w;
        if (w === 1) {
          for (let i = i0; i < i1; i++, d++, s += step) dst[d] = src[s];
        } else {
          for (let i = i0; i < i1; i++, d += 2, s += step) {
            dst[d] = src[s];
            dst[d + 1] = src[s + 1];
          }
        }
      }
    }
  }
}

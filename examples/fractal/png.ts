/** The fractal images as PNG, through the examples' PNG writer (../png.ts). */
import { encodePng, RAMPS } from '../png.js';

/** Encode a column-major float image (rows × cols) as a colour PNG (magma), scaled to its range. */
export function toPng(data: ArrayLike<number>, rows: number, cols: number): Buffer {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    lo = Math.min(lo, data[i]!);
    hi = Math.max(hi, data[i]!);
  }
  const rgb = new Uint8Array(rows * cols * 3);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      const [r, g, b] = RAMPS.magma(hi > lo ? (data[i + j * rows]! - lo) / (hi - lo) : 0);
      const o = 3 * (i * cols + j);
      rgb[o] = r;
      rgb[o + 1] = g;
      rgb[o + 2] = b;
    }
  return encodePng(rgb, cols, rows);
}

/**
 * Images for the figures: a float image mapped through a colour ramp between two percentiles,
 * encoded as an 8-bit RGB PNG (../png.ts).
 */
import { encodePng, RAMPS, type Rgb } from '../png.js';
import { percentile } from './image.js';

export { encodePng, RAMPS };

/** A row-major float image as PNG, scaled between its `lo` and `hi` percentiles. */
export function imagePng(img: Float32Array, height: number, width: number, color: (t: number) => Rgb, lo = 1, hi = 99.7): Buffer {
  const a = percentile(img, lo);
  const b = percentile(img, hi);
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < img.length; p++) {
    const t = b > a ? Math.min(1, Math.max(0, (img[p]! - a) / (b - a))) : 0;
    const [r, g, bl] = color(t);
    rgb[3 * p] = r;
    rgb[3 * p + 1] = g;
    rgb[3 * p + 2] = bl;
  }
  return encodePng(rgb, width, height);
}

/**
 * A minimal PNG writer (8-bit RGB) on node:zlib and the colour ramps of the examples' figures:
 * enough to look at a result, with no image library.
 */
import { crc32, deflateSync } from 'node:zlib';

export type Rgb = [number, number, number];

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** PNG of width × height RGB pixels (row-major, 3 bytes each). */
export function encodePng(rgb: Uint8Array, width: number, height: number): Buffer {
  if (rgb.length !== width * height * 3) throw new Error(`encodePng: ${rgb.length} bytes for ${width} × ${height} RGB`);
  const raw = Buffer.alloc(height * (1 + 3 * width));
  for (let i = 0; i < height; i++) {
    raw[i * (1 + 3 * width)] = 0; // filter: none
    raw.set(rgb.subarray(i * 3 * width, (i + 1) * 3 * width), i * (1 + 3 * width) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function ramp(stops: Array<[number, ...Rgb]>): (t: number) => Rgb {
  return (t) => {
    for (let k = 1; k < stops.length; k++) {
      const [t1, r1, g1, b1] = stops[k]!;
      const [t0, r0, g0, b0] = stops[k - 1]!;
      if (t <= t1) {
        const u = (t - t0) / (t1 - t0);
        return [r0 + u * (r1 - r0), g0 + u * (g1 - g0), b0 + u * (b1 - b0)];
      }
    }
    const [, r, g, b] = stops[stops.length - 1]!;
    return [r, g, b];
  };
}

/** Colour ramps: grey for fluorescence, magma-like for correlation. */
export const RAMPS = {
  grey: ramp([[0, 0, 0, 0], [1, 255, 255, 255]]),
  green: ramp([[0, 0, 0, 0], [0.6, 40, 190, 70], [1, 210, 255, 200]]),
  magma: ramp([[0, 0, 0, 4], [0.25, 80, 18, 123], [0.5, 182, 54, 121], [0.75, 251, 136, 97], [1, 252, 253, 191]]),
};

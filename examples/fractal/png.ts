/** A minimal PNG writer (8-bit RGB) on node:zlib, enough to look at a result. */
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A magma-like colour ramp: black → purple → orange → pale yellow. */
function ramp(t: number): [number, number, number] {
  const stops: Array<[number, number, number, number]> = [
    [0, 0, 0, 4], [0.25, 80, 18, 123], [0.5, 182, 54, 121], [0.75, 251, 136, 97], [1, 252, 253, 191],
  ];
  for (let k = 1; k < stops.length; k++) {
    const [t1, r1, g1, b1] = stops[k]!;
    const [t0, r0, g0, b0] = stops[k - 1]!;
    if (t <= t1) {
      const u = (t - t0) / (t1 - t0);
      return [r0 + u * (r1 - r0), g0 + u * (g1 - g0), b0 + u * (b1 - b0)];
    }
  }
  return [252, 253, 191];
}

/** Encode a column-major float image (rows × cols) as a colour PNG, scaled to its range. */
export function toPng(data: ArrayLike<number>, rows: number, cols: number): Buffer {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    lo = Math.min(lo, data[i]!);
    hi = Math.max(hi, data[i]!);
  }
  const raw = Buffer.alloc(rows * (1 + 3 * cols));
  for (let i = 0; i < rows; i++) {
    raw[i * (1 + 3 * cols)] = 0; // filter: none
    for (let j = 0; j < cols; j++) {
      const [r, g, b] = ramp(hi > lo ? (data[i + j * rows]! - lo) / (hi - lo) : 0);
      const o = i * (1 + 3 * cols) + 1 + 3 * j;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(cols, 0);
  ihdr.writeUInt32BE(rows, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

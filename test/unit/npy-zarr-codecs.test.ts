/**
 * Formats written for other programs: `.npy` files byte for byte as numpy.save writes them
 * (header dict, 64-byte alignment, Fortran order) and read back for every dtype; and the
 * gzip/zlib encoders registered into zarrita, readable by any standard decoder.
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { NDArray } from '../../src/blob/index.js';
import { decodeNpy, encodeNpy } from '../../src/codecs/builtin/npy-format.js';
import { GzipCodec, ZlibCodec, registerZarrCodecs } from '../../src/objects/zarr-codecs.js';

describe('.npy', () => {
  test('the header is the one numpy.save writes', () => {
    // np.save(f, np.arange(3, dtype='<i8')) → 128-byte header, then the data.
    const { bytes } = encodeNpy(BigInt64Array.from([0n, 1n, 2n]));
    expect(bytes.length).toBe(128 + 24);
    expect(bytes.subarray(0, 10)).toEqual(Buffer.from('\x93NUMPY\x01\x00\x76\x00', 'latin1'));
    const header = bytes.subarray(10, 128).toString('latin1');
    expect(header.startsWith("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }")).toBe(true);
    expect(header.endsWith('\n')).toBe(true);
    expect(header.trimEnd()).toBe("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }");
    // Fortran-ordered matrices say so, and keep their data as is.
    const f = encodeNpy(new NDArray({ dtype: 'float64', shape: [2, 3], data: [1, 2, 3, 4, 5, 6], order: 'F' }));
    expect(f.bytes.subarray(10, 128).toString('latin1').trimEnd()).toBe("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }");
    expect(f.shape).toEqual([2, 3]);
    expect(f.dtype).toBe('float64');
  });

  test('every header keeps the data 64-byte aligned, for any shape', () => {
    for (const shape of [[], [7], [1, 1], [12345, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]]) {
      const size = shape.reduce((a, d) => a * d, 1);
      const { bytes } = encodeNpy(new NDArray({ dtype: 'uint8', shape, data: new Uint8Array(size), order: 'C' }));
      const hlen = bytes.readUInt16LE(8);
      expect((10 + hlen) % 64).toBe(0);
      expect(bytes[10 + hlen - 1]).toBe(0x0a);
      expect(bytes.length).toBe(10 + hlen + size);
    }
  });

  test('round trip of every numeric dtype', () => {
    const cases: Array<[string, ArrayLike<unknown>]> = [
      ['bool', [1, 0, 1]], ['int8', [-1, 2, 3]], ['uint8', [1, 2, 255]], ['int16', [-300, 2, 3]], ['uint16', [1, 65535, 3]],
      ['int32', [-1, 2, 2 ** 31 - 1]], ['uint32', [1, 2, 2 ** 32 - 1]], ['int64', [-1n, 2n, 3n]], ['uint64', [1n, 2n, 2n ** 64n - 1n]],
      ['float32', [1.5, -2, 3]], ['float64', [Math.PI, -0, 1e300]], ['complex64', [1, 2, 3, 4, 5, 6]], ['complex128', [1, -2, 3, 4, 5, 6]],
    ];
    for (const [dtype, data] of cases) {
      const arr = new NDArray({ dtype: dtype as never, shape: [3], data: data as never });
      const back = decodeNpy(encodeNpy(arr).bytes);
      expect(back.dtype, dtype).toBe(dtype);
      expect(back.shape).toEqual([3]);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(arr.data as ArrayLike<unknown>));
    }
    const f = decodeNpy(encodeNpy(new NDArray({ dtype: 'int32', shape: [2, 2], data: [1, 2, 3, 4], order: 'F' })).bytes);
    expect(f.order).toBe('F');
    expect(() => encodeNpy([1, 2, 3])).toThrow(/NDArray or a typed array/);
    expect(() => decodeNpy(Buffer.from('not npy at all'))).toThrow(/magic/);
  });

  /** `.npy` bytes as numpy writes them for `descr` (version 1.0, data at a multiple of 64). */
  function npyBytes(descr: string, shape: string, body: Buffer): Buffer {
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
    header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
    head.writeUInt16LE(header.length, 8);
    return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
  }

  test("reads what numpy saves for big-endian arrays and float16 (as float32); strings stay refused", () => {
    const be = (n: number, write: (b: Buffer, v: number, o: number) => void, size: number, values: number[]) => {
      const b = Buffer.alloc(size * values.length);
      values.forEach((v, i) => write(b, v, i * size));
      return b;
    };
    const f8 = decodeNpy(npyBytes('>f8', '(3,)', be(3, (b, v, o) => b.writeDoubleBE(v, o), 8, [1.5, -2, Math.PI])));
    expect([f8.dtype, Array.from(f8.data as Float64Array)]).toEqual(['float64', [1.5, -2, Math.PI]]);
    const i2 = decodeNpy(npyBytes('>i2', '(2, 2)', be(4, (b, v, o) => b.writeInt16BE(v, o), 2, [1, -2, 300, -300])));
    expect([i2.dtype, i2.shape, Array.from(i2.data as Int16Array)]).toEqual(['int16', [2, 2], [1, -2, 300, -300]]);
    const c8 = decodeNpy(npyBytes('>c8', '(2,)', be(4, (b, v, o) => b.writeFloatBE(v, o), 4, [1, 2, -3, 4.5])));
    expect([c8.dtype, Array.from(c8.data as Float32Array)]).toEqual(['complex64', [1, 2, -3, 4.5]]);
    // float16: 1, -2, 0.5, 65504 (the largest), the smallest subnormal, inf, NaN.
    const halves = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0x7e00];
    const le = decodeNpy(npyBytes('<f2', '(7,)', be(7, (b, v, o) => b.writeUInt16LE(v, o), 2, halves)));
    expect([le.dtype, Array.from(le.data as Float32Array)]).toEqual(['float32', [1, -2, 0.5, 65504, 2 ** -24, Infinity, NaN]]);
    const bigHalf = decodeNpy(npyBytes('>f2', '(1,)', be(1, (b, v, o) => b.writeUInt16BE(v, o), 2, [0xc000])));
    expect(Array.from(bigHalf.data as Float32Array)).toEqual([-2]);
    expect(() => decodeNpy(npyBytes('<U2', '(2,)', Buffer.alloc(16)))).toThrow(/dtype <U2 is not supported/);
  });
});

describe('zarr gzip and zlib encoders', () => {
  const data = new Uint8Array(Buffer.from('zarr chunk '.repeat(500)));

  test('gzip output is standard gzip, and decodes back', async () => {
    const c = GzipCodec.fromConfig({ level: 5 });
    expect(c.level).toBe(5);
    const enc = await c.encode(data);
    expect(enc.length).toBeLessThan(data.length / 10);
    expect(new Uint8Array(gunzipSync(enc))).toEqual(data);
    // What zarrita's own decoder uses: the web DecompressionStream.
    const web = new Uint8Array(await new Response(new Blob([enc]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
    expect(web).toEqual(data);
    expect(await c.decode(enc)).toEqual(data);
  });

  test('zlib output is RFC 1950 (numcodecs zlib), and decodes back', async () => {
    const c = ZlibCodec.fromConfig({});
    const enc = await c.encode(data);
    expect(new Uint8Array(inflateSync(enc))).toEqual(data);
    expect(await c.decode(enc)).toEqual(data);
  });

  test('registration puts them into zarrita, once', async () => {
    await registerZarrCodecs();
    await registerZarrCodecs();
    const { registry } = await import('zarrita');
    expect((registry as unknown as Map<string, () => unknown>).get('gzip')!()).toBe(GzipCodec);
    expect((registry as unknown as Map<string, () => unknown>).get('numcodecs.zlib')!()).toBe(ZlibCodec);
  });
});

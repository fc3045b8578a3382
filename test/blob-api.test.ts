/**
 * The JS value mapping of dj.blob (docs/blob-mapping.md), zero-copy decoding, options, and the
 * NDArray / wrapper helpers.
 */
import { describe, expect, test } from 'vitest';
import { BlobError, DataJointError } from '../src/errors.js';
import {
  CharArray,
  Complex,
  DateOnly,
  DateTime,
  Datetime64Array,
  Decimal,
  MatCell,
  MatStruct,
  NDArray,
  NpScalar,
  PyFloat,
  RecArray,
  TimeOfDay,
  Tuple,
  UUID,
  datetime64Item,
  pack,
  packTs,
  protocolOf,
  setBlobBackend,
  unpack,
  unpackTs,
} from '../src/blob/index.js';

const rt = (v: unknown, opts = {}): unknown => unpack(pack(v), opts);
const hex = (b: Buffer): string => b.toString('hex');

describe('JS value mapping', () => {
  test('scalars', () => {
    expect(rt(null)).toBeNull();
    expect(rt(undefined)).toBeNull();
    expect(rt(true)).toBe(true);
    expect(rt(42)).toBe(42);
    expect(rt(2.5)).toBe(2.5);
    expect(Object.is(rt(-0), -0)).toBe(true);
    expect(rt(NaN)).toBeNaN();
    expect(rt(2n ** 70n)).toBe(2n ** 70n);
    expect(rt(12n)).toBe(12);
    expect(rt('héllo ✓ 😀')).toBe('héllo ✓ 😀');
    expect(rt(new Complex(1, -2))).toEqual(new Complex(1, -2));
  });

  test('safe integers pack as Python int, other numbers as float, PyFloat forces float', () => {
    expect(hex(pack(7))).toBe('646a30000a010007');
    expect(hex(pack(7.5)).slice(8, 10)).toBe('0d');
    expect(hex(pack(2 ** 53)).slice(8, 10)).toBe('0d');
    expect(hex(pack(new PyFloat(7)))).toBe('646a30000d0000000000001c40');
    expect(unpack(pack(new PyFloat(7)), { typedScalars: true })).toEqual(new PyFloat(7));
    // int boundary cases of the byte-count rule
    expect(hex(pack(-128))).toBe('646a30000a020080ff');
    expect(hex(pack(-(2 ** 31))).slice(8, 14)).toBe('0a0500');
    expect(rt(Number.MIN_SAFE_INTEGER)).toBe(Number.MIN_SAFE_INTEGER);
    expect(rt(-(2n ** 63n))).toBe(-(2n ** 63n));
  });

  test('bytes: Buffer and ArrayBuffer are bytes; a plain Uint8Array is a uint8 array', () => {
    const b = rt(Buffer.from([1, 2, 3]));
    expect(Buffer.isBuffer(b)).toBe(true);
    expect([...(b as Buffer)]).toEqual([1, 2, 3]);
    expect(Buffer.isBuffer(rt(new Uint8Array([1, 2]).buffer))).toBe(true);
    const a = rt(new Uint8Array([1, 2])) as NDArray;
    expect(a).toBeInstanceOf(NDArray);
    expect(a.dtype).toBe('uint8');
    expect(protocolOf(new Uint8Array([1]))).toBe('mYm');
  });

  test('containers', () => {
    const t = rt(new Tuple<unknown>(1, 'a'));
    expect(t).toBeInstanceOf(Tuple);
    expect([...(t as Tuple)]).toEqual([1, 'a']);
    expect(Array.isArray(t)).toBe(true);
    expect(new Tuple(5)).toHaveLength(1);
    expect((t as Tuple).map((x) => x)).not.toBeInstanceOf(Tuple);
    expect(rt([1, [2, [3]]])).toEqual([1, [2, [3]]]);
    expect(rt(new Set([1, 'x']))).toEqual(new Set([1, 'x']));
    expect(rt({ a: 1, b: { c: [null] } })).toEqual({ a: 1, b: { c: [null] } });
    const m = rt(new Map<unknown, unknown>([[1, 'one'], ['two', 2]]));
    expect(m).toBeInstanceOf(Map);
    expect([...(m as Map<unknown, unknown>)]).toEqual([[1, 'one'], ['two', 2]]);
    // a Map with only string keys is a Python dict with str keys: decoded as a plain object
    expect(rt(new Map([['k', 1]]))).toEqual({ k: 1 });
  });

  test('__proto__ keys from a blob are own properties, not prototype changes', () => {
    const o = rt(new Map([['__proto__', { polluted: true }]])) as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('Decimal and UUID wrappers', () => {
    expect(rt(new Decimal('-1.2300'))).toEqual(new Decimal('-1.2300'));
    expect(() => new Decimal('1,2')).toThrow(DataJointError);
    const u = new UUID('12345678-1234-5678-9ABC-def012345678');
    expect(u.value).toBe('12345678-1234-5678-9abc-def012345678');
    expect(rt(u)).toEqual(u);
    expect(hex(pack(u)).slice(10)).toBe('123456781234567 89abcdef012345678'.replace(' ', ''));
  });

  test('dates and times', () => {
    const d = new Date('2024-01-02T03:04:05.123Z');
    const back = rt(d);
    expect(back).toBeInstanceOf(Date);
    expect(back).not.toBeInstanceOf(DateTime);
    expect((back as Date).getTime()).toBe(d.getTime());
    const us = DateTime.fromParts(2024, 1, 2, 3, 4, 5, 6);
    expect(hex(pack(us))).toBe('646a300074e6d63401467b471407000000');
    const usBack = rt(us) as DateTime;
    expect(usBack).toBeInstanceOf(DateTime);
    expect(usBack.microsecond).toBe(6);
    expect(usBack.toISOStringUs()).toBe('2024-01-02T03:04:05.000006Z');
    const day = rt(new DateOnly(2020, 2, 29));
    expect(day).toBeInstanceOf(DateOnly);
    expect(String(day)).toBe('2020-02-29');
    expect(String(rt(new DateOnly(5, 1, 1)))).toBe('0005-01-01');
    expect(String(rt(new TimeOfDay(13, 14, 15, 16)))).toBe('13:14:15.000016');
    expect(() => new DateOnly(2021, 2, 29)).toThrow(DataJointError);
    expect(() => pack(new Date(NaN))).toThrow(BlobError);
    expect(() => pack(new Date(Date.UTC(10000, 0, 1)))).toThrow(BlobError);
  });

  test('unsupported values raise BlobError', () => {
    expect(() => pack(() => 1)).toThrow(BlobError);
    expect(() => pack(Symbol('x'))).toThrow(BlobError);
    expect(() => pack(new (class Foo {})())).toThrow('Packing object of type Foo currently not supported!');
    const cyc: unknown[] = [];
    cyc.push(cyc);
    expect(() => pack(cyc)).toThrow(/circular/);
    expect(() => pack(2n ** 600000n)).toThrow('Integers are limited to 65535 bytes');
  });

  test('strings with lone UTF-16 surrogates are refused, not written as U+FFFD', () => {
    // UTF-8 cannot encode a lone surrogate; DataJoint Python's str.encode() raises for the
    // same strings. Paired surrogates (astral characters) are fine.
    const lone = ['\uD800', 'a\uDBFFb', '\uDC00x', 'x\uDFFF', '\uDC00\uD800', '😀'.slice(0, 1)];
    for (const s of lone) {
      expect(() => pack(s)).toThrow(BlobError);
      expect(() => pack(s)).toThrow(/lone UTF-16 surrogate/);
      expect(() => pack([1, { k: s }])).toThrow(BlobError);
      expect(() => pack({ [s]: 1 })).toThrow(BlobError);
      expect(() => pack(new Map([[s, 1]]))).toThrow(BlobError);
      expect(() => pack(new NDArray({ dtype: 'object', shape: [1], data: [s] }))).toThrow(BlobError);
      expect(() => pack(new MatStruct({ shape: [1], fields: [s], values: [1] }))).toThrow(/field name/);
      expect(() => pack(new RecArray([{ name: s, value: new NDArray({ dtype: 'int8', shape: [1], data: [1] }) }]))).toThrow(BlobError);
    }
    expect(() => pack('ab\uD800')).toThrow('U+D800 at index 2');
    for (const s of ['😀', 'a😀b', '\uD83D\uDE00', '中文', '', '\uFFFD']) expect(unpack(pack(s))).toBe(s);
    // MATLAB char arrays hold UTF-16 code units and are not UTF-8 encoded: no check there.
    expect(() => pack(new CharArray({ shape: [1, 1], data: [0xd800] }))).not.toThrow();
  });

  test('anything the encoder accepts at its depth limit also decodes', () => {
    let v: unknown = 1;
    for (let i = 0; i < 1000; i++) v = [v];
    expect(() => unpack(pack(v))).not.toThrow();
    expect(() => pack([v])).toThrow(/nested more than 1000/);
  });

  test('a value shared twice (not a cycle) packs fine', () => {
    const shared = [1, 2];
    expect(rt([shared, shared])).toEqual([[1, 2], [1, 2]]);
  });
});

describe('numeric arrays', () => {
  test('1-D typed arrays pack as 1-D arrays and decode as F-order NDArrays', () => {
    for (const ta of [
      new Float64Array([1, 2.5]),
      new Float32Array([1.5]),
      new Int8Array([-1]),
      new Uint16Array([65535]),
      new Int32Array([-5, 5]),
      new Uint32Array([4e9]),
      new BigInt64Array([-(2n ** 63n)]),
      new BigUint64Array([2n ** 64n - 1n]),
    ]) {
      const a = rt(ta) as NDArray;
      expect(a).toBeInstanceOf(NDArray);
      expect(a.shape).toEqual([ta.length]);
      expect(a.order).toBe('F');
      expect(a.data).toEqual(ta);
      expect(a.data.constructor).toBe(ta.constructor);
    }
  });

  test('C-order arrays are written in F order', () => {
    const c = new NDArray({ dtype: 'int16', shape: [2, 3], data: [0, 1, 2, 3, 4, 5], order: 'C' });
    const f = new NDArray({ dtype: 'int16', shape: [2, 3], data: [0, 3, 1, 4, 2, 5] });
    expect(hex(pack(c))).toBe(hex(pack(f)));
    const back = rt(c) as NDArray<'int16'>;
    expect(back.get(1, 2)).toBe(5);
    expect(back.toNested()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    const cc = new NDArray({ dtype: 'complex128', shape: [2, 2], data: [new Complex(1, 1), new Complex(2, 2), new Complex(3, 3), new Complex(4, 4)], order: 'C' });
    expect((rt(cc) as NDArray).get(0, 1)).toEqual(new Complex(2, 2));
  });

  test('complex data is interleaved; bool data is 0/1', () => {
    const z = new NDArray({ dtype: 'complex64', shape: [2], data: [1, 2, 3, 4] });
    const back = rt(z) as NDArray<'complex64'>;
    expect(back.data).toEqual(new Float32Array([1, 2, 3, 4]));
    expect(back.get(1)).toEqual(new Complex(3, 4));
    const b = new NDArray({ dtype: 'bool', shape: [3], data: [true, false, true] });
    expect((rt(b) as NDArray).data).toEqual(new Uint8Array([1, 0, 1]));
    expect((rt(b) as NDArray<'bool'>).get(0)).toBe(true);
  });

  test('0-d arrays and numpy scalars decode to JS scalars (NpScalar with typedScalars)', () => {
    const z = new NDArray({ dtype: 'float32', shape: [], data: [1.5] });
    expect(protocolOf(z)).toBe('dj0');
    expect(rt(z)).toBe(1.5);
    expect(rt(z, { typedScalars: true })).toEqual(new NpScalar('float32', 1.5));
    expect(rt(new NpScalar('int64', 5n))).toBe(5);
    expect(rt(new NpScalar('uint64', 2n ** 64n - 1n))).toBe(2n ** 64n - 1n);
    expect(rt(new NpScalar('bool', true))).toBe(true);
    expect(rt(new NpScalar('complex64', new Complex(1, 2)))).toEqual(new Complex(1, 2));
  });

  test('squeeze drops unit axes; 0-d results become scalars', () => {
    const a = new NDArray({ dtype: 'float64', shape: [1, 3, 1], data: [1, 2, 3] });
    expect((rt(a, { squeeze: true }) as NDArray).shape).toEqual([3]);
    expect(rt(new NDArray({ dtype: 'uint8', shape: [1, 1], data: [7] }), { squeeze: true })).toBe(7);
    expect(new NDArray({ dtype: 'uint8', shape: [1, 2], data: [7, 8] }).squeeze().shape).toEqual([2]);
  });

  test('decoding is zero-copy when the data is aligned, one copy otherwise', () => {
    const src = new Float64Array([1, 2, 3, 4]);
    const blob = pack(src, { compress: false });
    // Data starts at byte 29 (4 + 1 + 8 + 8 + 8); place the blob so that it is 8-aligned.
    const dataAt = 4 + 1 + 8 + 8 + 8;
    const ab = new ArrayBuffer(blob.length + 16);
    const start = (8 - (dataAt % 8)) % 8;
    const aligned = new Uint8Array(ab, start, blob.length);
    aligned.set(blob);
    const view = unpack(aligned) as NDArray<'float64'>;
    expect(view.data.buffer).toBe(ab);
    expect(view.data).toEqual(src);
    const misaligned = new Uint8Array(ab, start + 1, blob.length);
    misaligned.set(blob);
    const copy = unpack(misaligned) as NDArray<'float64'>;
    expect(copy.data.buffer).not.toBe(ab);
    expect(copy.data).toEqual(src);
  });

  test('pack aligns a large array so that unpacking its output is zero-copy', () => {
    const src = new Float64Array(4096).map((_, i) => i);
    const blob = pack(src, { compress: false });
    expect((unpack(blob) as NDArray<'float64'>).data.buffer).toBe(blob.buffer);
    const c = new NDArray({ dtype: 'int32', shape: [64, 128], data: new Int32Array(64 * 128).map((_, i) => i), order: 'C' });
    const back = unpack(pack(c, { compress: false })) as NDArray<'int32'>;
    expect(back.get(5, 7)).toBe(5 * 128 + 7);
    expect(back.get(63, 127)).toBe(64 * 128 - 1);
  });

  test('NDArray validation', () => {
    expect(() => new NDArray({ dtype: 'float64', shape: [2], data: [1] })).toThrow(DataJointError);
    expect(() => new NDArray({ dtype: 'float99' as 'float64', shape: [1], data: [1] })).toThrow(DataJointError);
    expect(() => new NDArray({ dtype: 'int8', shape: [-1], data: [] })).toThrow(DataJointError);
    const a = new NDArray({ dtype: 'int32', shape: [2], data: [1, 2] });
    (a as { data: unknown }).data = new Float64Array(2);
    expect(() => pack(a)).toThrow(BlobError);
  });

  test('NDArray helpers', () => {
    const a = NDArray.from(new Int16Array([1, 2, 3, 4, 5, 6])).reshape([2, 3]);
    expect(a.ndim).toBe(2);
    expect(a.size).toBe(6);
    expect(a.get(1, 0)).toBe(2);
    expect(a.get(5)).toBe(6);
    expect(() => a.get(2, 0)).toThrow(RangeError);
    const c = a.toOrder('C');
    expect(c.order).toBe('C');
    expect([...(c.data as Int16Array)]).toEqual([1, 3, 5, 2, 4, 6]);
    expect(c.get(1, 0)).toBe(2);
    expect(NDArray.from([true, false]).dtype).toBe('bool');
    expect(NDArray.from([1.5]).dtype).toBe('float64');
  });
});

describe('datetime64', () => {
  test('arrays keep their unit; scalars read like numpy .item()', () => {
    const a = new Datetime64Array({ unit: 'D', shape: [2], data: [18262n, -1n] });
    const back = rt(a) as Datetime64Array;
    expect(back).toBeInstanceOf(Datetime64Array);
    expect(back.unit).toBe('D');
    expect(back.items().map(String)).toEqual(['2020-01-01', '1969-12-31']);
    expect(datetime64Item(883612800000000n, 'us')).toEqual(new Date('1998-01-01T00:00:00Z'));
    expect(datetime64Item(1n, 'us')).toEqual(new DateTime(0, 1));
    expect(datetime64Item(5n, 'ns')).toBe(5);
    expect(datetime64Item(-(2n ** 63n), 's')).toBeNull();
    expect(String(datetime64Item(13n, 'M'))).toBe('1971-02-01');
    expect(String(datetime64Item(-1n, 'Y'))).toBe('1969-01-01');
    expect(String(datetime64Item(-13n, 'M'))).toBe('1968-12-01');
    expect(datetime64Item(10n ** 15n, 's')).toBe(10 ** 15); // beyond year 9999: the count
    expect(rt(new NpScalar('datetime64[s]', 60n))).toEqual(new Date(60_000));
  });
});

describe('MATLAB types', () => {
  test('CharArray keeps shape and full UTF-16 code units', () => {
    const s = CharArray.from('héllo 中');
    expect(protocolOf(s)).toBe('mYm');
    const back = rt(s) as CharArray;
    expect(back).toBeInstanceOf(CharArray);
    expect(back.shape).toEqual([1, 7]);
    expect(String(back)).toBe('héllo 中');
    expect(rt(s, { squeeze: true })).toBe('héllo 中');
    const m = new CharArray({ shape: [2, 2], data: [97, 99, 98, 100] });
    expect(m.rows()).toEqual(['ab', 'cd']);
    expect(String(m)).toBe('ab\ncd');
  });

  test('MatCell and MatStruct', () => {
    const one = new NDArray({ dtype: 'float64', shape: [1, 1], data: [1] }); // MATLAB's scalar 1
    const cell = MatCell.from([one, CharArray.from('x')]);
    expect(protocolOf(cell)).toBe('mYm');
    // a bare JS number is a Python int, which MATLAB cannot read: the blob becomes dj0
    expect(protocolOf(MatCell.from([1]))).toBe('dj0');
    const back = rt(cell) as MatCell;
    expect(back).toBeInstanceOf(MatCell);
    expect(back).toBeInstanceOf(NDArray);
    expect(back.shape).toEqual([1, 2]);
    expect((back.data[0] as NDArray).get(0, 0)).toBe(1);
    expect((rt(cell, { squeeze: true }) as MatCell).data).toEqual([1, 'x']);
    // an empty cell loses its shape, as upstream
    expect((rt(new MatCell({ shape: [0, 0], data: [] })) as MatCell).shape).toEqual([0]);

    const s = MatStruct.from([
      { a: 1, b: 'x' },
      { a: 2, b: 'y' },
    ]);
    const sb = rt(s) as MatStruct;
    expect(sb.shape).toEqual([1, 2]);
    expect(sb.fields).toEqual(['a', 'b']);
    expect(sb.get(1)).toEqual({ a: 2, b: 'y' });
    expect(sb.get(0, 1)).toEqual({ a: 2, b: 'y' });
    expect(sb.field('a')).toEqual([1, 2]);
    expect(sb.records()).toHaveLength(2);
    expect(() => MatStruct.from([{ a: 1 }, { b: 2 }])).toThrow(DataJointError);
    // zero-field structs keep their shape (upstream returns None)
    const empty = rt(new MatStruct({ shape: [2, 3], fields: [], values: [] })) as MatStruct;
    expect(empty.shape).toEqual([2, 3]);
    expect(empty.size).toBe(6);
    expect(() => pack(new MatStruct({ shape: [1], fields: ['a\0b'], values: [1] }))).toThrow(BlobError);
  });

  test('32-bit dims blobs decode with dims32', () => {
    const blob = Buffer.from('6d596d00410200000001000000030000000600000000000000000000000000f03f00000000000000400000000000000840', 'hex');
    const a = unpack(blob, { dims32: true }) as NDArray;
    expect(a.shape).toEqual([1, 3]);
    expect(() => unpack(blob)).toThrow(BlobError);
  });
});

describe('RecArray', () => {
  test('fields round-trip; shape is the first field shape', () => {
    const r = new RecArray({
      x: new NDArray({ dtype: 'float64', shape: [2], data: [1, 3] }),
      y: new NDArray({ dtype: 'int64', shape: [2], data: [2n, 4n] }),
    });
    expect(protocolOf(r)).toBe('dj0');
    const back = rt(r) as RecArray;
    expect(back).toBeInstanceOf(RecArray);
    expect(back.shape).toEqual([2]);
    expect(back.names).toEqual(['x', 'y']);
    expect((back.field('y') as NDArray).data).toEqual(new BigInt64Array([2n, 4n]));
    // squeeze keeps 1-element records as arrays (upstream raises here)
    const one = new RecArray({ v: new NDArray({ dtype: 'uint8', shape: [1], data: [3] }) });
    const sq = rt(one, { squeeze: true }) as RecArray;
    expect(sq.shape).toEqual([]);
    expect((sq.field('v') as NDArray).get()).toBe(3);
  });
});

describe('compression and backend', () => {
  test('compresses above 1000 bytes only when smaller', () => {
    const big = new Float64Array(1000);
    const z = pack(big);
    expect(z.subarray(0, 6).toString('latin1')).toBe('ZL123\0');
    expect(z.readBigUInt64LE(6)).toBe(BigInt(pack(big, { compress: false }).length));
    expect(unpack(z)).toEqual(unpack(pack(big, { compress: false })));
    expect(pack(big, { compress: false }).subarray(0, 4).toString('latin1')).toBe('mYm\0');
    expect(pack(new Float64Array(10)).subarray(0, 4).toString('latin1')).toBe('mYm\0');
  });

  test('size mismatch in ZL123 header is detected', () => {
    const z = Buffer.from(pack('a'.repeat(2000)));
    z.writeBigUInt64LE(z.readBigUInt64LE(6) - 1n, 6);
    expect(() => unpack(z)).toThrow(BlobError);
  });

  test('bytes after the zlib stream are refused', () => {
    const z = pack('a'.repeat(2000));
    expect(unpack(z)).toBe('a'.repeat(2000));
    expect(() => unpack(Buffer.concat([z, Buffer.from([0])]))).toThrow(BlobError);
  });

  test('setBlobBackend swaps the implementation and null restores it', () => {
    setBlobBackend({ unpack: () => 'native' });
    try {
      expect(unpack(pack(1))).toBe('native');
      expect(unpackTs(packTs(1))).toBe(1);
    } finally {
      setBlobBackend(null);
    }
    expect(unpack(pack(1))).toBe(1);
  });
});

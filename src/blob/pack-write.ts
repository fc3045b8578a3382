/**
 * Pass 2 of the encoder (pack.ts): writes the value into one preallocated Buffer of the size
 * pass 1 (pack-measure.ts) computed, taking ITEM lengths and UTF-8 byte lengths from its plan.
 * Numeric array data goes in with one memcpy (or is transposed straight into the output for
 * C-order arrays); any mismatch with the plan means the value changed between the passes.
 */
import { BlobError } from '../errors.js';
import { DTYPE_CTOR, dtypeOfTypedArray, isComplexDtype, type NumericDtype, type TypedArray } from './dtype.js';
import type { Complex, NDArray } from './ndarray.js';
import { CLASS_CHAR, CLASS_DATETIME64, CLASS_ID, K, arrayClassId, bigintHex, classify, dateParts, intByteCount } from './pack-classify.js';
import { transposeData, transposeInto } from './transpose.js';
import {
  DATETIME64_UNITS,
  PyFloat,
  Tuple,
  parseDatetime64Dtype,
  type CharArray,
  type Decimal,
  type MatCell,
  type MatStruct,
  type NpScalar,
  type RecArray,
  type TimeOfDay,
  type UUID,
} from './types.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Pass 2: `elem(v)` writes the element for `v` into `buf`, replaying the Measurer's plan. */
export class Writer {
  private pos = 0;
  private k = 0;
  private readonly dv: DataView;
  constructor(
    readonly buf: Buffer,
    private readonly plan: number[],
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  u8(x: number): void {
    this.buf[this.pos++] = x;
  }
  u32(x: number): void {
    this.dv.setUint32(this.pos, x, true);
    this.pos += 4;
  }
  len(x: number): void {
    this.dv.setUint32(this.pos, x >>> 0, true);
    this.dv.setUint32(this.pos + 4, Math.floor(x / 0x1_0000_0000), true);
    this.pos += 8;
  }
  f64(x: number): void {
    this.dv.setFloat64(this.pos, x, true);
    this.pos += 8;
  }
  i64(x: number): void {
    const hi = Math.floor(x / 0x1_0000_0000);
    this.dv.setUint32(this.pos, x - hi * 0x1_0000_0000, true);
    this.dv.setInt32(this.pos + 4, hi, true);
    this.pos += 8;
  }

  item(v: unknown): void {
    const n = this.plan[this.k++]!;
    this.len(n);
    const start = this.pos;
    this.elem(v);
    if (this.pos - start !== n) throw new BlobError('Value changed while it was being packed');
  }

  utf8(s: string): number {
    const n = this.plan[this.k++]!;
    if (this.buf.write(s, this.pos, n, 'utf8') !== n) throw new BlobError('Value changed while it was being packed');
    this.pos += n;
    return n;
  }

  elem(v: unknown): void {
    switch (classify(v)) {
      case K.None:
        return this.u8(0xff);
      case K.Bool:
        this.u8(0x0b);
        return this.u8(v ? 1 : 0);
      case K.IntNum: {
        let x = v as number;
        const n = intByteCount(x);
        this.u8(0x0a);
        this.dv.setUint16(this.pos, n, true);
        this.pos += 2;
        for (let i = 0; i < n; i++) {
          // Floor division keeps two's-complement bytes exact for every safe integer.
          this.buf[this.pos++] = ((x % 256) + 256) % 256;
          x = Math.floor(x / 256);
        }
        return;
      }
      case K.IntBig: {
        const { n, hex } = bigintHex(v as bigint);
        this.u8(0x0a);
        this.dv.setUint16(this.pos, n, true);
        this.pos += 2;
        for (let i = 0; i < n; i++) this.buf[this.pos++] = parseInt(hex.substr(2 * (n - 1 - i), 2), 16);
        return;
      }
      case K.Float:
        this.u8(0x0d);
        return this.f64(v instanceof PyFloat ? v.value : (v as number));
      case K.Complex:
        this.u8(0x0c);
        this.f64((v as Complex).re);
        return this.f64((v as Complex).im);
      case K.Str:
        this.u8(0x05);
        this.len(this.plan[this.k]!);
        this.utf8(v as string);
        return;
      case K.Bytes: {
        const b = v as ArrayBuffer | ArrayBufferView;
        const u = ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
        this.u8(0x06);
        this.len(u.length);
        return this.bytes(u);
      }
      case K.Decimal: {
        const s = (v as Decimal).value;
        this.u8(0x64);
        this.len(s.length);
        this.pos += this.buf.write(s, this.pos, 'latin1');
        return;
      }
      case K.Uuid:
        this.u8(0x75);
        return this.bytes((v as UUID).bytes);
      case K.DateTime:
      case K.Date: {
        const { date, time } = dateParts(v as Date);
        this.u8(0x74);
        this.dv.setInt32(this.pos, date, true);
        this.pos += 4;
        return this.i64(time);
      }
      case K.Time: {
        const t = v as TimeOfDay;
        this.u8(0x74);
        this.dv.setInt32(this.pos, -1, true);
        this.pos += 4;
        return this.i64(((t.hour * 100 + t.minute) * 100 + t.second) * 1_000_000 + t.microsecond);
      }
      case K.NDArray:
        return this.ndarray(v as NDArray);
      case K.Typed: {
        const t = v as TypedArray;
        const dtype = dtypeOfTypedArray(t)!;
        this.arrayHeader([t.length], CLASS_ID[dtype], 0);
        return this.numeric(t, dtype);
      }
      case K.Char:
        return this.char(v as CharArray);
      case K.NpScalar:
        return this.npScalar(v as NpScalar);
      case K.Rec: {
        const r = v as RecArray;
        this.u8(0x46);
        this.names(r.fields.map((f) => f.name));
        for (const f of r.fields) this.elem(f.value);
        return;
      }
      case K.Struct: {
        const s = v as MatStruct;
        this.u8(0x53);
        this.shape(s.shape);
        this.names(s.fields);
        for (let i = 0; i < s.values.length; i++) this.item(s.values[i]);
        return;
      }
      case K.Cell: {
        const c = (v as MatCell).toOrder('F');
        this.u8(0x43);
        this.shape(c.shape);
        const data = c.data;
        for (let i = 0; i < data.length; i++) this.item(data[i]);
        return;
      }
      case K.Tuple:
      case K.List: {
        const a = v as unknown[];
        this.u8(v instanceof Tuple ? 0x01 : 0x02);
        this.len(a.length);
        for (let i = 0; i < a.length; i++) this.item(a[i]);
        return;
      }
      case K.Set: {
        const s = v as Set<unknown>;
        this.u8(0x03);
        this.len(s.size);
        for (const x of s) this.item(x);
        return;
      }
      case K.Map: {
        const m = v as Map<unknown, unknown>;
        this.u8(0x04);
        this.len(m.size);
        for (const [key, x] of m) {
          this.item(key);
          this.item(x);
        }
        return;
      }
      case K.Object: {
        const o = v as Record<string, unknown>;
        const keys = Object.keys(o);
        this.u8(0x04);
        this.len(keys.length);
        for (const key of keys) {
          this.item(key);
          this.item(o[key]);
        }
        return;
      }
    }
  }

  private shape(shape: readonly number[]): void {
    this.len(shape.length);
    for (const d of shape) this.len(d);
  }

  private names(fields: readonly string[]): void {
    this.u32(fields.length);
    for (const f of fields) {
      this.utf8(f);
      this.u8(0);
    }
  }

  private arrayHeader(shape: readonly number[], classId: number, complex: number): void {
    this.u8(0x41);
    this.shape(shape);
    this.u32(classId);
    this.u32(complex);
  }

  private ndarray(a: NDArray): void {
    const cplx = isComplexDtype(a.dtype) ? 1 : 0;
    this.arrayHeader(a.shape, arrayClassId(a), cplx);
    if (a.dtype === 'object') {
      const items = (a.order === 'F' ? a : a.toOrder('F')).data as unknown[];
      for (let i = 0; i < items.length; i++) this.item(items[i]);
      return;
    }
    const data = a.data as TypedArray;
    if (a.order === 'C' && !cplx && a.dtype !== 'bool' && LITTLE_ENDIAN) {
      // Transpose straight into the output when it is aligned for the element type.
      const abs = this.buf.byteOffset + this.pos;
      const w = data.BYTES_PER_ELEMENT;
      if (abs % w === 0) {
        const Ctor = data.constructor as new (b: ArrayBufferLike, o: number, n: number) => TypedArray;
        transposeInto(data, new Ctor(this.buf.buffer, abs, data.length), a.shape, 'C', 1);
        this.pos += data.byteLength;
        return;
      }
    }
    this.numeric((a.order === 'F' ? a : a.toOrder('F')).data as TypedArray, a.dtype);
  }

  /** Write numeric data (F order) as the blob stores it: split re/im for complex, 0/1 for bool. */
  private numeric(data: TypedArray, dtype: NumericDtype): void {
    if (dtype === 'bool') {
      for (let i = 0; i < data.length; i++) this.buf[this.pos++] = data[i] ? 1 : 0;
      return;
    }
    if (isComplexDtype(dtype)) {
      const src = data as Float32Array | Float64Array;
      const n = src.length / 2;
      const w = dtype === 'complex128' ? 8 : 4;
      const abs = this.buf.byteOffset + this.pos;
      if (LITTLE_ENDIAN && abs % w === 0) {
        const dst = w === 8 ? new Float64Array(this.buf.buffer, abs, 2 * n) : new Float32Array(this.buf.buffer, abs, 2 * n);
        for (let i = 0; i < n; i++) {
          dst[i] = src[2 * i]!;
          dst[n + i] = src[2 * i + 1]!;
        }
      } else {
        for (let i = 0; i < n; i++) {
          if (w === 8) {
            this.dv.setFloat64(this.pos + 8 * i, src[2 * i]!, true);
            this.dv.setFloat64(this.pos + 8 * (n + i), src[2 * i + 1]!, true);
          } else {
            this.dv.setFloat32(this.pos + 4 * i, src[2 * i]!, true);
            this.dv.setFloat32(this.pos + 4 * (n + i), src[2 * i + 1]!, true);
          }
        }
      }
      this.pos += 2 * n * w;
      return;
    }
    const start = this.pos;
    this.bytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (!LITTLE_ENDIAN) swapBytes(this.buf, start, this.pos, data.BYTES_PER_ELEMENT);
  }

  private char(c: CharArray): void {
    this.arrayHeader(c.shape, CLASS_CHAR, 0);
    // Upstream writes char data in C order (its decoder reads F order); match it byte for byte.
    const data = c.shape.filter((d) => d !== 1).length > 1 ? transposeData(c.data, c.shape, 'F', 1) : c.data;
    for (let i = 0; i < data.length; i++) {
      this.dv.setUint16(this.pos, data[i]!, true);
      this.pos += 2;
    }
  }

  private npScalar(s: NpScalar): void {
    const unit = parseDatetime64Dtype(s.dtype);
    if (unit) {
      this.arrayHeader([], CLASS_DATETIME64 + DATETIME64_UNITS.indexOf(unit), 0);
      return this.i64big(BigInt(s.value as number | bigint));
    }
    const dtype = s.dtype as NumericDtype;
    const cplx = isComplexDtype(dtype);
    this.arrayHeader([], CLASS_ID[dtype], cplx ? 1 : 0);
    const v = s.value;
    if (cplx) {
      const c = v as Complex;
      const d = dtype === 'complex128' ? new Float64Array([c.re, c.im]) : new Float32Array([c.re, c.im]);
      return this.numeric(d, dtype);
    }
    if (dtype === 'int64' || dtype === 'uint64') {
      const Ctor = dtype === 'int64' ? BigInt64Array : BigUint64Array;
      return this.numeric(Ctor.of(BigInt(v as number | bigint)), dtype);
    }
    const Ctor = DTYPE_CTOR[dtype] as unknown as { of(x: number): TypedArray };
    this.numeric(Ctor.of(typeof v === 'boolean' ? (v ? 1 : 0) : Number(v)), dtype);
  }

  private i64big(x: bigint): void {
    this.dv.setBigInt64(this.pos, BigInt.asIntN(64, x), true);
    this.pos += 8;
  }
}

function swapBytes(b: Uint8Array, start: number, end: number, w: number): void {
  if (w === 1) return;
  for (let i = start; i < end; i += w) {
    for (let a = i, z = i + w - 1; a < z; a++, z--) {
      const t = b[a]!;
      b[a] = b[z]!;
      b[z] = t;
    }
  }
}

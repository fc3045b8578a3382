/**
 * Pass 1 of the encoder (pack.ts): walks the value once to compute the exact blob size, and
 * records in `plan`, in traversal order, every size the writer needs before it can write what
 * follows (ITEM lengths, UTF-8 byte lengths), so pass 2 (pack-write.ts) fills one preallocated
 * Buffer without measuring anything again. Also settles the protocol (`matlab`) and refuses
 * circular and too deeply nested values.
 */
import { BlobError } from '../errors.js';
import { DTYPE_CTOR, dtypeOfTypedArray, isComplexDtype, type NumericDtype, type TypedArray } from './dtype.js';
import type { NDArray } from './ndarray.js';
import {
  K,
  LEN,
  bigintHex,
  checkName,
  checkedData,
  classify,
  dateParts,
  intByteCount,
  typeName,
  utf8Length,
} from './pack-classify.js';
import {
  DECIMAL_RE,
  Datetime64Array,
  parseDatetime64Dtype,
  type CharArray,
  type Decimal,
  type MatCell,
  type MatStruct,
  type NpScalar,
  type RecArray,
} from './types.js';

const MAX_DEPTH = 1000;

/** Pass 1: `elem(v)` returns the size of the element for `v`, filling `plan` and `matlab`. */
export class Measurer {
  /** Sizes recorded in traversal order (ITEM lengths, string byte lengths), replayed by Writer. */
  readonly plan: number[] = [];
  matlab = true;
  private readonly path = new Set<object>();
  private depth = 0;

  private enter(o: object): void {
    if (this.path.has(o)) throw new BlobError('Cannot pack a value that contains itself (circular reference)');
    if (++this.depth > MAX_DEPTH) throw new BlobError(`Value is nested more than ${MAX_DEPTH} levels deep`);
    this.path.add(o);
  }
  private leave(o: object): void {
    this.path.delete(o);
    this.depth--;
  }

  /** Size of ITEM(v) (LEN prefix + element); records the element size in the plan. */
  item(v: unknown): number {
    const slot = this.plan.length;
    this.plan.push(0);
    const n = this.elem(v);
    this.plan[slot] = n;
    return LEN + n;
  }

  str(s: string): number {
    const n = utf8Length(s, 'string');
    this.plan.push(n);
    return 1 + LEN + n;
  }

  /** Size of the element for `v`. */
  elem(v: unknown): number {
    const kind = classify(v);
    // Only structs, cells and (checked below) arrays with ndim >= 1 are MATLAB-compatible.
    if (kind !== K.Struct && kind !== K.Cell && kind !== K.NDArray && kind !== K.Typed && kind !== K.Char) this.matlab = false;
    switch (kind) {
      case K.None:
        return 1;
      case K.Bool:
        return 2;
      case K.IntNum:
        return 3 + intByteCount(v as number);
      case K.IntBig:
        return 3 + bigintHex(v as bigint).n;
      case K.Float:
        return 9;
      case K.Complex:
        return 17;
      case K.Str:
        return this.str(v as string);
      case K.Bytes:
        return 1 + LEN + (v as ArrayBuffer | ArrayBufferView).byteLength;
      case K.Decimal: {
        const s = (v as Decimal).value;
        if (!DECIMAL_RE.test(s)) throw new BlobError(`Invalid decimal "${s}"`);
        return 1 + LEN + s.length;
      }
      case K.Uuid:
        return 17;
      case K.DateTime:
      case K.Date:
        dateParts(v as Date);
        return 13;
      case K.Time:
        return 13;
      case K.NDArray:
        return this.ndarray(v as NDArray);
      case K.Typed: {
        const t = v as TypedArray;
        if (!dtypeOfTypedArray(t)) throw new BlobError(`Packing object of type ${typeName(v)} currently not supported!`);
        return 1 + 2 * LEN + 8 + t.byteLength;
      }
      case K.Char: {
        const c = v as CharArray;
        if (c.shape.length === 0) this.matlab = false;
        return 1 + LEN * (1 + c.shape.length) + 8 + 2 * c.data.length;
      }
      case K.NpScalar:
        return this.npScalarSize(v as NpScalar);
      case K.Rec:
        return this.rec(v as RecArray);
      case K.Struct:
        return this.struct(v as MatStruct);
      case K.Cell: {
        const c = (v as MatCell).toOrder('F');
        const data = checkedData(c) as unknown[];
        this.enter(v as object);
        let n = 1 + LEN * (1 + c.shape.length);
        for (let i = 0; i < data.length; i++) n += this.item(data[i]);
        this.leave(v as object);
        return n;
      }
      case K.Tuple:
      case K.List: {
        const a = v as unknown[];
        this.enter(a);
        let n = 1 + LEN;
        for (let i = 0; i < a.length; i++) n += this.item(a[i]);
        this.leave(a);
        return n;
      }
      case K.Set: {
        const s = v as Set<unknown>;
        this.enter(s);
        let n = 1 + LEN;
        for (const x of s) n += this.item(x);
        this.leave(s);
        return n;
      }
      case K.Map: {
        const m = v as Map<unknown, unknown>;
        this.enter(m);
        let n = 1 + LEN;
        for (const [k, x] of m) n += this.item(k) + this.item(x);
        this.leave(m);
        return n;
      }
      case K.Object: {
        const o = v as Record<string, unknown>;
        this.enter(o);
        let n = 1 + LEN;
        for (const k of Object.keys(o)) n += this.item(k) + this.item(o[k]);
        this.leave(o);
        return n;
      }
    }
  }

  private ndarray(a: NDArray): number {
    const data = checkedData(a);
    if (a.shape.length === 0 || a.dtype === 'object' || a instanceof Datetime64Array) this.matlab = false;
    let n = 1 + LEN * (1 + a.shape.length) + 8;
    if (a.dtype !== 'object') return n + (data as TypedArray).byteLength;
    const items = a.order === 'F' ? (data as unknown[]) : (a.toOrder('F').data as unknown[]);
    this.enter(a);
    for (let i = 0; i < items.length; i++) n += this.item(items[i]);
    this.leave(a);
    return n;
  }

  private npScalarSize(s: NpScalar): number {
    const unit = parseDatetime64Dtype(s.dtype);
    const width = unit ? 8 : DTYPE_CTOR[s.dtype as NumericDtype].BYTES_PER_ELEMENT * (isComplexDtype(s.dtype as NumericDtype) ? 2 : 1);
    return 1 + LEN + 8 + width;
  }

  private names(fields: readonly string[]): number {
    let n = 4;
    for (const f of fields) {
      checkName(f);
      const b = utf8Length(f, 'field name');
      this.plan.push(b);
      n += b + 1; // UTF-8 bytes + NUL
    }
    return n;
  }

  private rec(r: RecArray): number {
    this.enter(r);
    let n = 1 + this.names(r.fields.map((f) => f.name));
    for (const f of r.fields) n += this.elem(f.value);
    this.leave(r);
    return n;
  }

  private struct(s: MatStruct): number {
    const nf = s.fields.length;
    let size = 1;
    for (const d of s.shape) size *= d;
    if (s.values.length !== size * nf) throw new BlobError('MatStruct values do not match its shape and fields');
    this.enter(s);
    let n = 1 + LEN * (1 + s.shape.length) + this.names(s.fields);
    for (let i = 0; i < s.values.length; i++) n += this.item(s.values[i]);
    this.leave(s);
    return n;
  }
}

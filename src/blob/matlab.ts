/**
 * MATLAB content of blobs: char arrays (UTF-16), cell arrays, structs and numpy structured
 * (record) arrays, kept lossless (see docs/blob-mapping.md).
 */
import { DataJointError } from '../errors.js';
import { NDArray, shapeSize, type Order } from './ndarray.js';

/**
 * A MATLAB char array. Stored as UTF-16 code units in F order with the original shape (MATLAB
 * strings are 1×n). Upstream Python keeps only the low byte of each code unit; we keep all 16
 * bits, so non-Latin-1 MATLAB text survives. Plain JS strings pack as Python `str` instead.
 */
export class CharArray {
  readonly shape: number[];
  readonly data: Uint16Array;
  readonly order: 'F' = 'F';
  constructor(init: { shape: readonly number[]; data: Uint16Array | ArrayLike<number> }) {
    const n = shapeSize(init.shape);
    const data = init.data instanceof Uint16Array ? init.data : Uint16Array.from(init.data as ArrayLike<number>);
    if (data.length !== n) throw new DataJointError(`CharArray data length ${data.length} does not match its shape`);
    this.shape = init.shape.slice();
    this.data = data;
  }
  /** A MATLAB string: a 1×n char row. */
  static from(text: string): CharArray {
    const data = new Uint16Array(text.length);
    for (let i = 0; i < text.length; i++) data[i] = text.charCodeAt(i);
    return new CharArray({ shape: [1, text.length], data });
  }
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return this.data.length;
  }
  /**
   * True when upstream Python decodes this as one string (ndim 1, or 2-D with one row); otherwise
   * it gives an array with one character per cell.
   */
  get isRow(): boolean {
    return this.shape.length === 1 || (this.shape.length === 2 && this.shape[0] === 1);
  }
  /** Character at F-order linear index, or at per-axis indices. */
  get(...idx: number[]): string {
    let off = 0;
    if (idx.length === 1) off = idx[0]!;
    else {
      let stride = 1;
      for (let k = 0; k < this.shape.length; k++) {
        off += idx[k]! * stride;
        stride *= this.shape[k]!;
      }
    }
    if (!(off >= 0 && off < this.data.length)) throw new RangeError('CharArray index out of range');
    return String.fromCharCode(this.data[off]!);
  }
  /** Rows of a 2-D char matrix as strings (MATLAB's `cellstr`). */
  rows(): string[] {
    const [r = 1, c = this.data.length] = this.shape.length === 2 ? this.shape : [1, this.data.length];
    const out: string[] = [];
    for (let i = 0; i < r; i++) {
      let s = '';
      for (let j = 0; j < c; j++) s += String.fromCharCode(this.data[i + j * r]!);
      out.push(s);
    }
    return out;
  }
  /** The text: a vector's characters, or a matrix's rows joined with newlines. */
  toString(): string {
    if (this.shape.filter((d) => d !== 1).length <= 1) return decodeUtf16(this.data);
    return this.rows().join('\n');
  }
  toJSON(): string {
    return this.toString();
  }
}

function decodeUtf16(u: Uint16Array): string {
  let s = '';
  for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode(...u.subarray(i, i + 8192));
  return s;
}

/** A MATLAB cell array: an object NDArray (F order) that packs as a cell (`C`). */
export class MatCell extends NDArray<'object'> {
  constructor(init: { shape: readonly number[]; data: ArrayLike<unknown>; order?: Order }) {
    super({ dtype: 'object', shape: init.shape, data: init.data, order: init.order });
  }
  /** A 1×n cell of the given values. */
  static override from(items: ArrayLike<unknown>): MatCell {
    return new MatCell({ shape: [1, items.length], data: Array.from(items) });
  }
}

/** Define an own enumerable property; safe for keys like `__proto__` from untrusted blobs. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/**
 * A MATLAB struct array. `values` holds the field values element by element in F order:
 * `values[e * fields.length + f]`. `get()` returns one element as a plain object.
 */
export class MatStruct {
  readonly shape: number[];
  readonly fields: string[];
  readonly values: unknown[];
  readonly order: 'F' = 'F';
  constructor(init: { shape: readonly number[]; fields: readonly string[]; values: unknown[] }) {
    const n = shapeSize(init.shape);
    if (new Set(init.fields).size !== init.fields.length) throw new DataJointError('MatStruct field names must be unique');
    if (init.values.length !== n * init.fields.length) {
      throw new DataJointError('MatStruct values must hold one value per field per element');
    }
    this.shape = init.shape.slice();
    this.fields = init.fields.slice();
    this.values = init.values;
  }
  /** A 1×1 struct from an object, or a 1×n struct array from objects with the same keys. */
  static from(records: Record<string, unknown> | ReadonlyArray<Record<string, unknown>>): MatStruct {
    const list = Array.isArray(records) ? (records as ReadonlyArray<Record<string, unknown>>) : [records as Record<string, unknown>];
    const fields = list.length ? Object.keys(list[0]!) : [];
    const values: unknown[] = [];
    for (const r of list) {
      const keys = Object.keys(r);
      if (keys.length !== fields.length || !fields.every((f) => Object.prototype.hasOwnProperty.call(r, f))) {
        throw new DataJointError('All elements of a struct array need the same fields');
      }
      for (const f of fields) values.push(r[f]);
    }
    return new MatStruct({ shape: [1, list.length], fields, values });
  }
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return this.fields.length ? this.values.length / this.fields.length : shapeSize(this.shape);
  }
  /** One element (by F-order linear index or per-axis indices) as `{ field: value }`. */
  get(...idx: number[]): Record<string, unknown> {
    let e = 0;
    if (idx.length === 1) e = idx[0]!;
    else {
      let stride = 1;
      for (let k = 0; k < this.shape.length; k++) {
        e += idx[k]! * stride;
        stride *= this.shape[k]!;
      }
    }
    if (!(Number.isInteger(e) && e >= 0 && e < this.size)) throw new RangeError('MatStruct index out of range');
    const out: Record<string, unknown> = {};
    const nf = this.fields.length;
    for (let f = 0; f < nf; f++) setOwn(out, this.fields[f]!, this.values[e * nf + f]);
    return out;
  }
  /** All values of one field, in F order. */
  field(name: string): unknown[] {
    const f = this.fields.indexOf(name);
    if (f < 0) throw new DataJointError(`MatStruct has no field "${name}"`);
    const nf = this.fields.length;
    const out: unknown[] = [];
    for (let i = f; i < this.values.length; i += nf) out.push(this.values[i]);
    return out;
  }
  /** Every element as an object, in F order. */
  records(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (let e = 0; e < this.size; e++) out.push(this.get(e));
    return out;
  }
}

/** A field of a structured array: a whole array with the record shape (plus subarray axes). */
export type RecField = NDArray | CharArray | RecArray;

/**
 * A numpy structured array / recarray (`F`), stored column-wise: one array per field. As in
 * upstream, its shape is the shape of the first field.
 */
export class RecArray {
  readonly fields: ReadonlyArray<{ readonly name: string; readonly value: RecField }>;
  constructor(fields: ReadonlyArray<{ name: string; value: RecField }> | Readonly<Record<string, RecField>>) {
    const list = Array.isArray(fields)
      ? (fields as ReadonlyArray<{ name: string; value: RecField }>)
      : Object.entries(fields as Record<string, RecField>).map(([name, value]) => ({ name, value }));
    const names = new Set<string>();
    for (const f of list) {
      if (typeof f.name !== 'string' || names.has(f.name)) throw new DataJointError(`Invalid or duplicate field name "${String(f.name)}"`);
      names.add(f.name);
      if (!(f.value instanceof NDArray || f.value instanceof CharArray || f.value instanceof RecArray)) {
        throw new DataJointError(`Field "${f.name}" of a RecArray must be an NDArray, CharArray or RecArray`);
      }
    }
    this.fields = list.map((f) => ({ name: f.name, value: f.value }));
  }
  get shape(): number[] {
    const first = this.fields[0];
    return first ? first.value.shape.slice() : [];
  }
  get names(): string[] {
    return this.fields.map((f) => f.name);
  }
  field(name: string): RecField {
    const f = this.fields.find((x) => x.name === name);
    if (!f) throw new DataJointError(`RecArray has no field "${name}"`);
    return f.value;
  }
}


/**
 * JS-side wrapper types that keep Python/MATLAB blob content lossless where a plain JS value
 * would lose information (see docs/blob-mapping.md for the full mapping and the reasons).
 */
import { DataJointError } from '../errors.js';
import { Complex, NDArray, isNumericDtype, shapeSize, type NumericDtype, type Order } from './ndarray.js';

export { Complex };

// ---------------------------------------------------------------------------------------------
// Python scalars and containers

/**
 * A Python `tuple` (or any non-list sequence). It is an Array, so it reads like one; the class
 * only records that it must be packed back as a tuple. Derived arrays (map, slice...) are plain.
 */
export class Tuple<T = unknown> extends Array<T> {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
  constructor(...items: T[]) {
    super();
    // super(...items) would treat a single number as a length.
    for (const it of items) this.push(it);
  }
}

/**
 * A Python `float`. Plain JS numbers that are safe integers pack as Python `int`; wrap a number
 * in PyFloat to force a float. `unpack(..., { typedScalars: true })` returns Python floats as PyFloat.
 */
export class PyFloat {
  constructor(readonly value: number) {
    if (typeof value !== 'number') throw new DataJointError('PyFloat needs a number');
  }
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return String(this.value);
  }
  toJSON(): number {
    return this.value;
  }
}

/** numpy datetime64 units, in the order of their blob class ids (65536 + index). */
export const DATETIME64_UNITS = ['Y', 'M', 'W', 'D', 'h', 'm', 's', 'ms', 'us', 'ns', 'ps', 'fs', 'as'] as const;
export type Datetime64Unit = (typeof DATETIME64_UNITS)[number];
export type Datetime64Dtype = `datetime64[${Datetime64Unit}]`;
export type ScalarDtype = NumericDtype | Datetime64Dtype;

export function parseDatetime64Dtype(d: string): Datetime64Unit | undefined {
  const m = /^datetime64\[(\w+)\]$/.exec(d);
  return m && (DATETIME64_UNITS as readonly string[]).includes(m[1]!) ? (m[1] as Datetime64Unit) : undefined;
}

/**
 * A numpy scalar (`np.float32(1.5)`, `np.int64(3)`, `np.datetime64(...)`), i.e. a 0-d array in a
 * blob. By default unpack returns plain JS scalars for these (API.md §7); `typedScalars: true`
 * returns NpScalar so the dtype survives a round trip. Value types: number for ≤32-bit ints and
 * floats, bigint for int64/uint64/datetime64 (number accepted when packing), boolean for bool,
 * Complex for complex dtypes.
 */
export class NpScalar {
  readonly dtype: ScalarDtype;
  readonly value: number | bigint | boolean | Complex;
  constructor(dtype: ScalarDtype, value: number | bigint | boolean | Complex) {
    if (!isNumericDtype(dtype) && !parseDatetime64Dtype(dtype)) {
      throw new DataJointError(`Unknown numpy scalar dtype "${String(dtype)}"`);
    }
    const ok =
      dtype === 'bool'
        ? typeof value === 'boolean'
        : dtype === 'complex64' || dtype === 'complex128'
          ? value instanceof Complex
          : typeof value === 'number' || typeof value === 'bigint';
    if (!ok) throw new DataJointError(`Invalid value for numpy scalar of dtype ${dtype}`);
    this.dtype = dtype;
    this.value = value;
  }
  valueOf(): number | bigint | boolean | Complex {
    return this.value;
  }
  toString(): string {
    return String(this.value);
  }
}

/** A Python `decimal.Decimal`, kept as its exact text (`str(Decimal)`). */
export class Decimal {
  readonly value: string;
  constructor(value: string | number | bigint) {
    const s = typeof value === 'string' ? value.trim() : String(value);
    if (!DECIMAL_RE.test(s)) throw new DataJointError(`Invalid decimal "${s}"`);
    this.value = s;
  }
  toString(): string {
    return this.value;
  }
  toJSON(): string {
    return this.value;
  }
  toNumber(): number {
    return Number(this.value.replace(/^([+-]?)s?nan\d*$/i, 'NaN').replace(/^([+-]?)inf(inity)?$/i, '$1Infinity'));
  }
}
// What Python's Decimal() accepts (and str(Decimal) produces): finite, Infinity, NaN with payload.
export const DECIMAL_RE = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|s?nan\d*)$/i;

/** A Python `uuid.UUID` (a bare string would pack as `str`). `value` is canonical lowercase. */
export class UUID {
  readonly value: string;
  constructor(value: string | Uint8Array) {
    if (typeof value === 'string') {
      const hex = value.trim().toLowerCase().replace(/^urn:uuid:/, '').replace(/[{}-]/g, '');
      if (!/^[0-9a-f]{32}$/.test(hex)) throw new DataJointError(`Invalid UUID "${value}"`);
      this.value = formatUuid(hex);
    } else {
      if (value.length !== 16) throw new DataJointError('A UUID needs exactly 16 bytes');
      this.value = formatUuid(Buffer.from(value.buffer, value.byteOffset, 16).toString('hex'));
    }
  }
  /** The 16 bytes in RFC-4122 order (Python's `uuid.bytes`). */
  get bytes(): Buffer {
    return Buffer.from(this.value.replace(/-/g, ''), 'hex');
  }
  toString(): string {
    return this.value;
  }
  toJSON(): string {
    return this.value;
  }
}
function formatUuid(h: string): string {
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// Dates and times. Python datetimes are naive; they map to JS Dates read as UTC.

/** Milliseconds since the epoch of a UTC calendar time (years 0-99 are taken literally). */
export function utcMs(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

function checkCalendar(y: number, mo: number, d: number): void {
  const ok =
    Number.isInteger(y) && Number.isInteger(mo) && Number.isInteger(d) && y >= 1 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1;
  if (!ok || d > new Date(utcMs(y, mo + 1, 0)).getUTCDate()) {
    throw new DataJointError(`Invalid date ${y}-${mo}-${d}`);
  }
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/** A Python `datetime.date`: a Date at UTC midnight that packs as a date (not a datetime). */
export class DateOnly extends Date {
  constructor(year: number, month: number, day: number) {
    checkCalendar(year, month, day);
    super(utcMs(year, month, day));
  }
  /** The UTC calendar date of `d`. */
  static fromDate(d: Date): DateOnly {
    return new DateOnly(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
  }
  get year(): number {
    return this.getUTCFullYear();
  }
  get month(): number {
    return this.getUTCMonth() + 1;
  }
  get day(): number {
    return this.getUTCDate();
  }
  /** `YYYY-MM-DD`. */
  override toString(): string {
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
  }
  override toJSON(): string {
    return this.toString();
  }
}

/**
 * A Python `datetime.datetime` with sub-millisecond precision. A JS Date stops at
 * milliseconds, so the remaining 0-999 microseconds are kept in `extraMicros`. unpack returns a
 * plain Date when there are none.
 */
export class DateTime extends Date {
  readonly extraMicros: number;
  constructor(time: number | Date, extraMicros = 0) {
    super(typeof time === 'number' ? time : time.getTime());
    if (!Number.isInteger(extraMicros) || extraMicros < 0 || extraMicros > 999) {
      throw new DataJointError('DateTime extraMicros must be an integer in 0..999');
    }
    this.extraMicros = extraMicros;
  }
  static fromParts(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, us = 0): DateTime {
    checkCalendar(y, mo, d);
    return new DateTime(utcMs(y, mo, d, h, mi, s, Math.floor(us / 1000)), us % 1000);
  }
  /** Microsecond of the second, 0..999999 (Python's `datetime.microsecond`). */
  get microsecond(): number {
    return this.getUTCMilliseconds() * 1000 + this.extraMicros;
  }
  /** ISO 8601 with six fractional digits, e.g. `2024-01-02T03:04:05.000006Z`. */
  toISOStringUs(): string {
    return `${this.toISOString().slice(0, 19)}.${pad(this.microsecond, 6)}Z`;
  }
}

/** A Python `datetime.time` (time of day without a date; tzinfo is not stored in blobs). */
export class TimeOfDay {
  constructor(
    readonly hour: number,
    readonly minute = 0,
    readonly second = 0,
    readonly microsecond = 0,
  ) {
    const ok =
      [hour, minute, second, microsecond].every(Number.isInteger) &&
      hour >= 0 &&
      hour < 24 &&
      minute >= 0 &&
      minute < 60 &&
      second >= 0 &&
      second < 60 &&
      microsecond >= 0 &&
      microsecond < 1_000_000;
    if (!ok) throw new DataJointError(`Invalid time ${hour}:${minute}:${second}.${microsecond}`);
  }
  /** Parse `HH:MM[:SS[.ffffff]]`. */
  static parse(s: string): TimeOfDay {
    const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/.exec(s.trim());
    if (!m) throw new DataJointError(`Invalid time "${s}"`);
    return new TimeOfDay(+m[1]!, +m[2]!, m[3] ? +m[3] : 0, m[4] ? +m[4].padEnd(6, '0') : 0);
  }
  /** `HH:MM:SS` or `HH:MM:SS.ffffff`, like Python's `time.isoformat()`. */
  toString(): string {
    const base = `${pad(this.hour, 2)}:${pad(this.minute, 2)}:${pad(this.second, 2)}`;
    return this.microsecond ? `${base}.${pad(this.microsecond, 6)}` : base;
  }
  toJSON(): string {
    return this.toString();
  }
}

const NAT = -(2n ** 63n);
const US_PER: Partial<Record<Datetime64Unit, bigint>> = { h: 3_600_000_000n, m: 60_000_000n, s: 1_000_000n, ms: 1000n, us: 1n };
// Python datetime range, in microseconds since the epoch.
const MIN_US = BigInt(utcMs(1, 1, 1)) * 1000n;
const MAX_US = BigInt(utcMs(9999, 12, 31, 23, 59, 59, 999)) * 1000n + 999n;

/**
 * What numpy's `.item()` gives for a datetime64 value: a date for Y/M/W/D units, a datetime for
 * h..us, an integer count for ns and finer (or when outside Python's year range 1..9999), null for NaT.
 */
export function datetime64Item(count: bigint, unit: Datetime64Unit): DateOnly | Date | number | bigint | null {
  if (count === NAT) return null;
  const asInt = (): number | bigint => (count >= -(2n ** 53n) + 1n && count <= 2n ** 53n - 1n ? Number(count) : count);
  if (unit === 'Y' || unit === 'M') {
    const months = unit === 'Y' ? count * 12n : count;
    const y = 1970n + (months >= 0n ? months / 12n : -((-months + 11n) / 12n));
    const mo = Number(months - (y - 1970n) * 12n) + 1;
    return y >= 1n && y <= 9999n ? new DateOnly(Number(y), mo, 1) : asInt();
  }
  if (unit === 'W' || unit === 'D') {
    const days = unit === 'W' ? count * 7n : count;
    const us = days * 86_400_000_000n;
    if (us < MIN_US || us > MAX_US) return asInt();
    return DateOnly.fromDate(new Date(Number(days) * 86_400_000));
  }
  const per = US_PER[unit];
  if (per === undefined) return asInt();
  const us = count * per;
  if (us < MIN_US || us > MAX_US) return asInt();
  const ms = us >= 0n ? us / 1000n : -((-us + 999n) / 1000n);
  const extra = Number(us - ms * 1000n);
  return extra ? new DateTime(Number(ms), extra) : new Date(Number(ms));
}

/**
 * A numpy datetime64 array: an int64 NDArray of counts since 1970-01-01 in `unit`. It is an
 * NDArray (dtype int64), so numeric code can use it; packing writes the datetime64 class id.
 */
export class Datetime64Array extends NDArray<'int64'> {
  readonly unit: Datetime64Unit;
  constructor(init: { unit: Datetime64Unit; shape: readonly number[]; data: BigInt64Array | ArrayLike<bigint | number>; order?: Order }) {
    super({ dtype: 'int64', shape: init.shape, data: init.data, order: init.order });
    if (!(DATETIME64_UNITS as readonly string[]).includes(init.unit)) {
      throw new DataJointError(`Unknown datetime64 unit "${String(init.unit)}"`);
    }
    this.unit = init.unit;
  }
  /** Element values as numpy's `.item()` would give them (Date / DateOnly / count / null). */
  items(): Array<DateOnly | Date | number | bigint | null> {
    return Array.from(this.data, (c) => datetime64Item(c, this.unit));
  }
}

// ---------------------------------------------------------------------------------------------
// MATLAB types

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

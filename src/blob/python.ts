/**
 * Python scalars and containers that a plain JS value would lose information about: tuples,
 * floats that are whole numbers, numpy scalars, decimals and UUIDs (see docs/blob-mapping.md).
 */
import { DataJointError } from '../errors.js';
import { Complex, isNumericDtype } from './ndarray.js';
import type { ScalarDtype } from './time.js';
import { parseDatetime64Dtype } from './time.js';

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


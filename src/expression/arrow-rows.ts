/**
 * Rows of an Arrow table as plain objects: what insert stores (API.md §5) and what a
 * restriction by an Arrow table matches (an OR of its rows). A table is recognized by its
 * shape, so a Table of another copy of apache-arrow is read too.
 */
import { AttributeTypeError, DataJointError } from '../errors.js';
import { DateTime } from '../blob/time.js';
import { ARROW_CODEC, StoredForm } from '../codecs/stored-form.js';
import { BLOB_DTYPE, BLOB_SHAPE, BLOB_SHAPE_OF, blobCellReader } from './arrow-blob-cells.js';

/** Field metadata keys of Arrow extension types, and the name of the canonical JSON type. */
export const ARROW_EXTENSION_NAME = 'ARROW:extension:name';
export const ARROW_EXTENSION_METADATA = 'ARROW:extension:metadata';
export const ARROW_JSON = 'arrow.json';

interface ArrowChunk {
  length: number;
  values?: unknown;
}

interface ArrowColumn {
  get(i: number): unknown;
  /** The column's chunks (apache-arrow's Vector.data). */
  data?: readonly ArrowChunk[];
}

interface ArrowField {
  name: string;
  type: { typeId: number; unit?: number };
  metadata?: ReadonlyMap<string, string>;
}

export interface ArrowLike {
  numRows: number;
  schema: { fields: readonly ArrowField[] };
  getChild(name: string): ArrowColumn | null;
}

export interface ArrowRowOptions {
  /** Whether column `name` goes into a json attribute: a column marked `arrow.json` is then parsed. */
  intoJson?(name: string): boolean;
  /**
   * Whether column `name` goes into a codec attribute: a column marked `datajoint.codec`
   * (toArrow's stored form) then reads as a StoredForm, and decodeBlobs columns as the arrays
   * and scalars they were unpacked from (their `<name>_shape` columns are consumed).
   */
  intoCodec?(name: string): boolean;
}

export function isArrowTable(x: unknown): x is ArrowLike {
  return typeof x === 'object' && x !== null && typeof (x as ArrowLike).getChild === 'function' && typeof (x as ArrowLike).numRows === 'number' && !!(x as ArrowLike).schema;
}

// apache-arrow's `Type` enum: Date = 8, Timestamp = 10, List = 12, FixedSizeList = 16; its `TimeUnit`: MICROSECOND = 2, NANOSECOND = 3.
const ARROW_DATE = 8;
const ARROW_LIST = 12;
const ARROW_FIXED_SIZE_LIST = 16;
const ARROW_TIMESTAMP = 10;
const MICROSECOND = 2;
const NANOSECOND = 3;

/** Rows of an Arrow table as plain objects (dates and timestamps as Date, or DateTime for microseconds). */
export function arrowRows(t: ArrowLike, opts: ArrowRowOptions = {}): Record<string, unknown>[] {
  const fields = t.schema.fields.filter((f) => !isConsumedShape(t, f, opts));
  const readers = fields.map((f) => columnReader(f, t.getChild(f.name)!, t.numRows, opts, t));
  const out: Record<string, unknown>[] = new Array(t.numRows);
  for (let i = 0; i < t.numRows; i++) {
    const row: Record<string, unknown> = {};
    try {
      for (let j = 0; j < fields.length; j++) row[fields[j]!.name] = readers[j]!(i);
    } catch (err) {
      if (err instanceof InvalidArrowValue) {
        err.row = i;
        if (t.numRows > 1) err.message = `Row ${i}: ${err.message}`;
      }
      throw err;
    }
    out[i] = row;
  }
  return out;
}

/** A decodeBlobs `<name>_shape` column whose array column goes into a codec attribute (which reads it). */
function isConsumedShape(t: ArrowLike, f: ArrowField, opts: ArrowRowOptions): boolean {
  const of = f.metadata?.get(BLOB_SHAPE_OF);
  if (of === undefined || !opts.intoCodec?.(of)) return false;
  return t.schema.fields.some((g) => g.name === of && g.metadata?.get(BLOB_SHAPE) === f.name);
}

/** The value of row i of a column, as insert and restrictions take it. */
function columnReader(f: ArrowField, col: ArrowColumn, numRows: number, opts: ArrowRowOptions, t: ArrowLike): (i: number) => unknown {
  if (opts.intoCodec?.(f.name)) {
    const spec = f.metadata?.get(ARROW_CODEC);
    if (spec) {
      return (i) => {
        const v = col.get(i);
        return v === null || v === undefined ? null : new StoredForm(v, spec);
      };
    }
    if (f.metadata?.get(BLOB_DTYPE)) {
      const shape = f.metadata.get(BLOB_SHAPE);
      return wrapInvalid(f.name, blobCellReader(f, col, shape ? t.getChild(shape) : null));
    }
  }
  const { typeId, unit } = f.type;
  if (typeId === ARROW_TIMESTAMP && (unit === MICROSECOND || unit === NANOSECOND)) {
    // Arrow's getter gives milliseconds (a fraction Date drops): read the stored count instead.
    const counts = int64Counts(col, numRows);
    if (counts) {
      const perMicro = unit === NANOSECOND ? 1000n : 1n;
      return (i) => (col.get(i) === null ? null : dateOfMicros(floorDiv(counts[i]!, perMicro)));
    }
  }
  if (typeId === ARROW_DATE || typeId === ARROW_TIMESTAMP) {
    return (i) => {
      const v = col.get(i);
      return typeof v === 'number' || typeof v === 'bigint' ? new Date(Number(v)) : v;
    };
  }
  if (f.metadata?.get(ARROW_EXTENSION_NAME) === ARROW_JSON && opts.intoJson?.(f.name)) {
    // A plain Utf8 column into a json attribute is a JSON string; one marked as JSON holds JSON text.
    return (i) => {
      const v = col.get(i);
      return typeof v === 'string' ? parseJson(f.name, v) : v;
    };
  }
  if (typeId === ARROW_LIST || typeId === ARROW_FIXED_SIZE_LIST) return (i) => plainList(col.get(i));
  return (i) => col.get(i);
}

/**
 * A cell of a List column (an Arrow Vector) as a value insert takes: numbers as a typed array,
 * anything else as an array (nested lists too), so a `<blob>` stores the numbers themselves.
 */
function plainList(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || typeof (v as { toArray?: unknown }).toArray !== 'function') return v;
  const items = (v as { toArray(): ArrayLike<unknown> }).toArray();
  return ArrayBuffer.isView(items) ? items : Array.from(items, plainList);
}

/** The int64 values of a column's chunks, in row order (null when the chunks are not int64 arrays). */
function int64Counts(col: ArrowColumn, numRows: number): BigInt64Array | null {
  if (!col.data) return null;
  const out = new BigInt64Array(numRows);
  let at = 0;
  for (const chunk of col.data) {
    if (!(chunk.values instanceof BigInt64Array) || chunk.values.length < chunk.length) return null;
    out.set(chunk.values.subarray(0, chunk.length), at);
    at += chunk.length;
  }
  return at === numRows ? out : null;
}

/** a / b rounded down: a time before the epoch is never moved later. */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

/** A Date of microseconds since the epoch; a DateTime when they go beyond the millisecond. */
function dateOfMicros(us: bigint): Date {
  const ms = floorDiv(us, 1000n);
  const extra = Number(us - ms * 1000n);
  return extra ? new DateTime(Number(ms), extra) : new Date(Number(ms));
}

/** A value of an Arrow table that its attribute cannot take; `row` says which row (validate reports it). */
export class InvalidArrowValue extends AttributeTypeError {
  row = 0;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'AttributeTypeError'; // the public class it is (this one is internal)
  }
}

/** A reader whose AttributeTypeErrors become InvalidArrowValue (so validate() names row and field). */
function wrapInvalid(name: string, read: (i: number) => unknown): (i: number) => unknown {
  return (i) => {
    try {
      return read(i);
    } catch (err) {
      if (err instanceof DataJointError && !(err instanceof InvalidArrowValue)) throw new InvalidArrowValue(name, `Arrow column \`${name}\`: ${err.message}`);
      throw err;
    }
  };
}

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidArrowValue(name, `Attribute \`${name}\` (json) got an Arrow column marked ${ARROW_JSON} whose text is not JSON: ${(err as Error).message}`);
  }
}

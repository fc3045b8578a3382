/**
 * Arrow column data from the driver's row arrays (arrow.ts plans the columns): typed arrays,
 * UTF-8 bytes + offsets and validity bitmaps, written straight from the rows.
 */
import { makeData, type Data, type DataType } from 'apache-arrow';
import { bufferToUuid, unpadChar } from './convert.js';
import { extraMicros } from '../connection/datetime.js';

export type Kind = 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'u64' | 'f32' | 'f64' | 'bool' | 'date' | 'timestamp' | 'timestamp_us' | 'utf8' | 'char' | 'json' | 'uuid' | 'binary';

export interface ColumnPlan {
  name: string;
  kind: Kind;
  type: DataType;
  nullable: boolean;
  /** For a codec attribute: its codec spec (`<blob@store>`); the column holds the stored form. */
  codec?: string;
}

/** Validity bitmap of column j (null when there are no NULLs) and the NULL count. */
function validity(rows: readonly unknown[][], j: number): { bitmap: Uint8Array | undefined; nulls: number } {
  const n = rows.length;
  let nulls = 0;
  for (let i = 0; i < n; i++) if (rows[i]![j] === null || rows[i]![j] === undefined) nulls++;
  if (!nulls) return { bitmap: undefined, nulls: 0 };
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    const v = rows[i]![j];
    if (v !== null && v !== undefined) bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap, nulls };
}

const NUMERIC: Partial<Record<Kind, new (n: number) => Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array>> = {
  i8: Int8Array, u8: Uint8Array, i16: Int16Array, u16: Uint16Array, i32: Int32Array, u32: Uint32Array, f32: Float32Array, f64: Float64Array,
};

const DAY_MS = 86_400_000;

/** Milliseconds since the epoch of 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]' read as UTC. */
function utcMillis(s: string): number {
  const y = +s.slice(0, 4);
  const mo = +s.slice(5, 7);
  const d = +s.slice(8, 10);
  const frac = s.length > 19 ? Math.floor(Number('0' + s.slice(19)) * 1000) : 0;
  const t = s.length <= 10 ? Date.UTC(y, mo - 1, d) : Date.UTC(y, mo - 1, d, +s.slice(11, 13), +s.slice(14, 16), +s.slice(17, 19), frac);
  // Date.UTC reads years 0–99 as 1900–1999: such a year is set again as itself.
  return y < 100 ? new Date(t).setUTCFullYear(y) : t;
}

/** Microseconds since the epoch of a datetime as the driver gives it: text, or a Date (with extraMicros). */
function microsOf(v: unknown): bigint {
  if (typeof v === 'string') {
    const whole = BigInt(utcMillis(v.slice(0, 19))) * 1000n;
    return v.length > 20 ? whole + BigInt(v.slice(20, 26).padEnd(6, '0')) : whole;
  }
  if (v instanceof Date) return BigInt(v.getTime()) * 1000n + BigInt(extraMicros(v));
  return BigInt(Number(v)) * 1000n;
}

function millisOf(v: unknown): number {
  if (typeof v === 'string') return utcMillis(v);
  if (v instanceof Date) return v.getTime();
  return Number(v);
}

/** Build the Arrow data of column j from row arrays. */
export function columnData(rows: readonly unknown[][], j: number, p: ColumnPlan): Data {
  const n = rows.length;
  const { bitmap, nulls } = validity(rows, j);
  const base = { type: p.type, length: n, nullCount: nulls, nullBitmap: bitmap } as const;
  const Numeric = NUMERIC[p.kind];
  if (Numeric) {
    const data = new Numeric(n);
    for (let i = 0; i < n; i++) {
      const v = rows[i]![j];
      if (v !== null && v !== undefined) data[i] = typeof v === 'number' ? v : Number(v);
    }
    return makeData({ ...base, data } as never);
  }
  switch (p.kind) {
    case 'i64':
    case 'u64': {
      const data = p.kind === 'i64' ? new BigInt64Array(n) : new BigUint64Array(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![j];
        if (v !== null && v !== undefined) data[i] = typeof v === 'bigint' ? v : BigInt(v as number | string);
      }
      return makeData({ ...base, data } as never);
    }
    case 'bool': {
      const data = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![j];
        if (v !== null && v !== undefined && Number(v) !== 0) data[i >> 3]! |= 1 << (i & 7);
      }
      return makeData({ ...base, data } as never);
    }
    case 'date': {
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![j];
        if (v !== null && v !== undefined) data[i] = Math.floor(millisOf(v) / DAY_MS);
      }
      return makeData({ ...base, data } as never);
    }
    case 'timestamp': {
      const data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![j];
        if (v !== null && v !== undefined) data[i] = BigInt(millisOf(v));
      }
      return makeData({ ...base, data } as never);
    }
    case 'timestamp_us': {
      const data = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = rows[i]![j];
        if (v !== null && v !== undefined) data[i] = microsOf(v);
      }
      return makeData({ ...base, data } as never);
    }
    case 'binary': {
      const parts: Uint8Array[] = new Array(n);
      const offsets = new Int32Array(n + 1);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const v = rows[i]![j];
        const b = v === null || v === undefined ? EMPTY : v instanceof Uint8Array ? v : Buffer.from(String(v));
        parts[i] = b;
        total += b.length;
        offsets[i + 1] = total;
      }
      const data = new Uint8Array(total);
      for (let i = 0; i < n; i++) data.set(parts[i]!, offsets[i]!);
      return makeData({ ...base, data, valueOffsets: offsets } as never);
    }
    default:
      return utf8Data(rows, j, p, base);
  }
}

const EMPTY = new Uint8Array(0);

/** UTF-8 column: byte lengths first, then one buffer written string by string. */
function utf8Data(rows: readonly unknown[][], j: number, p: ColumnPlan, base: { type: DataType; length: number; nullCount: number; nullBitmap: Uint8Array | undefined }): Data {
  const n = rows.length;
  const strings: string[] = new Array(n);
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = rows[i]![j];
    let s: string;
    if (v === null || v === undefined) s = '';
    // The servers write JSON text differently (MySQL compact, PostgreSQL with spaces): one canonical text.
    else if (p.kind === 'json') s = JSON.stringify(typeof v === 'string' ? JSON.parse(v) : v);
    // char(n) reads without its padding, as toDicts gives it (PostgreSQL pads, MySQL strips).
    else if (p.kind === 'char' && typeof v === 'string') s = unpadChar(v);
    else if (typeof v === 'string') s = v;
    else if (p.kind === 'uuid' && v instanceof Uint8Array) s = bufferToUuid(v);
    else if (v instanceof Uint8Array) s = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
    else if (typeof v === 'object') s = JSON.stringify(v);
    else s = String(v);
    strings[i] = s;
    total += Buffer.byteLength(s, 'utf8');
    offsets[i + 1] = total;
  }
  const data = Buffer.allocUnsafe(total);
  for (let i = 0; i < n; i++) if (strings[i]!.length) data.write(strings[i]!, offsets[i]!, 'utf8');
  return makeData({ ...base, data: new Uint8Array(data.buffer, data.byteOffset, total), valueOffsets: offsets } as never);
}


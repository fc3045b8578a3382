/**
 * Helpers for the blob vector tests: load test/fixtures/blob-vectors, build JS values from the
 * language-neutral `input` descriptions, and compare decoded values with `expected` ones.
 */
import { readFileSync } from 'node:fs';
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
  type Datetime64Unit,
  type NumericDtype,
  type RecField,
  type ScalarDtype,
} from '../src/blob/index.js';

export type Desc = { kind: string; [k: string]: unknown };

export interface Vector {
  file: string;
  name: string;
  input?: Desc;
  expected: Desc;
  expected_squeezed?: Desc;
  blob_hex: string;
  uncompressed_hex?: string;
  compressed?: boolean;
  protocol?: string;
  decode_only?: boolean;
  options?: { use_32bit_dims?: boolean };
  note?: string;
}

const DIR = new URL('./fixtures/blob-vectors/', import.meta.url);

export function loadVectors(): Vector[] {
  const out: Vector[] = [];
  for (const file of ['vectors.jsonl', 'matlab-vectors.jsonl']) {
    const text = readFileSync(new URL(file, DIR), 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim()) out.push({ file, ...(JSON.parse(line) as Omit<Vector, 'file'>) });
    }
  }
  return out;
}

const NUMERIC = new Set(['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'complex64', 'complex128']);

export function num(v: unknown): number {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === '-0') return -0;
  return v as number;
}

function intVal(s: string): number | bigint {
  const b = BigInt(s);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

function dtUnit(dtype: string): Datetime64Unit | undefined {
  const m = /^datetime64\[(\w+)\]$/.exec(dtype);
  return m ? (m[1] as Datetime64Unit) : undefined;
}

function parseDateTime(s: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{6}))?$/.exec(s)!;
  const us = m[7] ? +m[7] : 0;
  const d = DateTime.fromParts(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, us);
  return us % 1000 ? d : new Date(d.getTime());
}

/** A JS value that packs like the described Python value. */
export function fromDesc(d: Desc): unknown {
  switch (d.kind) {
    case 'none':
      return null;
    case 'bool':
      return d.value as boolean;
    case 'int':
      return intVal(d.value as string);
    case 'float':
      return new PyFloat(num(d.value));
    case 'complex':
      return new Complex(num(d.re), num(d.im));
    case 'str':
      return d.value as string;
    case 'bytes':
      return Buffer.from(d.hex as string, 'hex');
    case 'decimal':
      return new Decimal(d.value as string);
    case 'uuid':
      return new UUID(d.value as string);
    case 'datetime':
      return parseDateTime(d.value as string);
    case 'date': {
      const [y, m, dd] = (d.value as string).split('-').map(Number);
      return new DateOnly(y!, m!, dd!);
    }
    case 'time':
      return TimeOfDay.parse(d.value as string);
    case 'list':
      return (d.items as Desc[]).map(fromDesc);
    case 'tuple':
    case 'range':
      return new Tuple(...(d.items as Desc[]).map(fromDesc));
    case 'set':
      return new Set((d.items as Desc[]).map(fromDesc));
    case 'dict': {
      const items = d.items as Array<[Desc, Desc]>;
      if (items.every(([k]) => k.kind === 'str')) {
        const o: Record<string, unknown> = {};
        for (const [k, v] of items) o[k.value as string] = fromDesc(v);
        return o;
      }
      return new Map(items.map(([k, v]) => [fromDesc(k), fromDesc(v)]));
    }
    case 'npscalar':
      return new NpScalar(d.dtype as ScalarDtype, scalarValue(d.dtype as string, d.value));
    case 'ndarray':
      return arrayFromDesc(d);
    case 'recarray':
      return new RecArray(
        (d.fields as Array<{ name: string; value: Desc }>).map((f) => ({ name: f.name, value: fromDesc(f.value) as RecField })),
      );
    case 'struct':
      return new MatStruct({
        shape: d.shape as number[],
        fields: d.fields as string[],
        values: (d.data as Desc[][]).flat().map(fromDesc),
      });
    case 'cell':
      return new MatCell({ shape: d.shape as number[], data: (d.data as Desc[]).map(fromDesc) });
  }
  throw new Error(`unknown desc kind ${d.kind}`);
}

function scalarValue(dtype: string, v: unknown): number | bigint | boolean | Complex {
  if (dtype === 'bool') return v as boolean;
  if (dtype.startsWith('complex')) {
    const [re, im] = v as [unknown, unknown];
    return new Complex(num(re), num(im));
  }
  if (dtype === 'int64' || dtype === 'uint64' || dtUnit(dtype)) return BigInt(v as string);
  return num(v);
}

function arrayFromDesc(d: Desc): unknown {
  const dtype = d.dtype as string;
  const shape = d.shape as number[];
  const data = d.data as unknown[];
  if (NUMERIC.has(dtype)) {
    const vals =
      dtype === 'bool'
        ? data.map((x) => (x ? 1 : 0))
        : dtype.startsWith('complex')
          ? data.flatMap((c) => (c as unknown[]).map(num))
          : dtype.endsWith('int64')
            ? data.map((x) => BigInt(x as string))
            : data.map(num);
    return new NDArray({ dtype: dtype as NumericDtype, shape, data: vals });
  }
  if (dtype === 'char') return new CharArray({ shape, data: (data as string[]).map((c) => c.charCodeAt(0)) });
  // numpy unicode arrays pack exactly like object arrays of str.
  if (dtype === 'str') return new NDArray({ dtype: 'object', shape, data });
  if (dtype === 'object') return new NDArray({ dtype: 'object', shape, data: (data as Desc[]).map(fromDesc) });
  const unit = dtUnit(dtype);
  if (unit) return new Datetime64Array({ unit, shape, data: data.map((x) => BigInt(x as string)) });
  throw new Error(`unknown ndarray dtype ${dtype}`);
}

// ---------------------------------------------------------------------------------------------
// Matching decoded values against descriptions

export interface MatchMode {
  /** Decoded with typedScalars: numpy scalars are NpScalar and Python floats PyFloat. */
  typed: boolean;
  /** Decoded with squeeze. */
  squeeze: boolean;
}

function floatEq(a: number, b: number): boolean {
  return Object.is(a, b);
}
/** Complex parts compare ±0 as equal: upstream's re + 1j*im can lose a stored -0. */
function complexPartEq(a: number, b: number): boolean {
  return Object.is(a, b) || (a === 0 && b === 0);
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

function isoDateTime(d: Date): string {
  const us = d.getUTCMilliseconds() * 1000 + (d instanceof DateTime ? d.extraMicros : 0);
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return us ? `${base}.${pad(us, 6)}` : base;
}

const US_PER_UNIT: Record<string, bigint> = { D: 86_400_000_000n, h: 3_600_000_000n, m: 60_000_000n, s: 1_000_000n, ms: 1000n, us: 1n };

/** Mismatches between `a` and the description `d` (empty when they match). */
export function match(a: unknown, d: Desc, mode: MatchMode, path = '$'): string[] {
  const bad = (msg: string): string[] => [`${path}: ${msg} (got ${describe(a)})`];
  switch (d.kind) {
    case 'none':
      return a === null ? [] : bad('expected null');
    case 'bool':
      return a === d.value ? [] : bad(`expected ${String(d.value)}`);
    case 'int':
      return (typeof a === 'number' && Number.isSafeInteger(a)) || typeof a === 'bigint'
        ? BigInt(a) === BigInt(d.value as string)
          ? []
          : bad(`expected int ${String(d.value)}`)
        : bad('expected an integer');
    case 'float': {
      if (mode.typed && !(a instanceof PyFloat)) return bad('expected PyFloat');
      const x = a instanceof PyFloat ? a.value : a;
      return typeof x === 'number' && floatEq(x, num(d.value)) ? [] : bad(`expected float ${String(d.value)}`);
    }
    case 'complex':
      return a instanceof Complex && complexPartEq(a.re, num(d.re)) && complexPartEq(a.im, num(d.im)) ? [] : bad('expected complex');
    case 'str':
      return a === d.value ? [] : bad(`expected str ${JSON.stringify(d.value)}`);
    case 'bytes':
      return Buffer.isBuffer(a) && a.toString('hex') === d.hex ? [] : bad('expected bytes');
    case 'decimal':
      return a instanceof Decimal && a.value === d.value ? [] : bad(`expected Decimal ${String(d.value)}`);
    case 'uuid':
      return a instanceof UUID && a.value === d.value ? [] : bad('expected UUID');
    case 'datetime':
      return a instanceof Date && !(a instanceof DateOnly) && isoDateTime(a) === d.value ? [] : bad(`expected datetime ${String(d.value)}`);
    case 'date':
      return a instanceof DateOnly && a.toString() === d.value ? [] : bad(`expected date ${String(d.value)}`);
    case 'time':
      return a instanceof TimeOfDay && a.toString() === d.value ? [] : bad(`expected time ${String(d.value)}`);
    case 'list':
    case 'tuple': {
      const isTuple = a instanceof Tuple;
      if (!Array.isArray(a) || isTuple !== (d.kind === 'tuple')) return bad(`expected ${d.kind}`);
      return seq(a, d.items as Desc[], mode, path);
    }
    case 'set': {
      if (!(a instanceof Set)) return bad('expected Set');
      const items = [...a];
      const want = d.items as Desc[];
      if (items.length !== want.length) return bad(`expected ${want.length} items`);
      const used = new Set<number>();
      for (const w of want) {
        const i = items.findIndex((x, j) => !used.has(j) && match(x, w, mode).length === 0);
        if (i < 0) return bad(`no set element matches ${JSON.stringify(w)}`);
        used.add(i);
      }
      return [];
    }
    case 'dict': {
      const want = d.items as Array<[Desc, Desc]>;
      let entries: Array<[unknown, unknown]>;
      if (a instanceof Map) {
        if (want.every(([k]) => k.kind === 'str')) return bad('string-keyed dicts should decode to plain objects');
        entries = [...a.entries()];
      } else if (a !== null && typeof a === 'object' && Object.getPrototypeOf(a) === Object.prototype) {
        entries = Object.entries(a);
      } else return bad('expected dict');
      if (entries.length !== want.length) return bad(`expected ${want.length} entries`);
      return want.flatMap(([k, v], i) => [
        ...match(entries[i]![0], k, mode, `${path}.key[${i}]`),
        ...match(entries[i]![1], v, mode, `${path}[${i}]`),
      ]);
    }
    case 'npscalar':
      return npscalar(a, d, mode, path);
    case 'ndarray':
      return ndarray(a, d, mode, path);
    case 'recarray': {
      if (!(a instanceof RecArray)) return bad('expected RecArray');
      const errs = shapeEq(a.shape, d.shape as number[], path);
      const fields = d.fields as Array<{ name: string; value: Desc }>;
      if (a.fields.length !== fields.length) return [...errs, ...bad('field count differs')];
      return [
        ...errs,
        ...fields.flatMap((f, i) =>
          a.fields[i]!.name !== f.name
            ? [`${path}: field ${i} is ${a.fields[i]!.name}, expected ${f.name}`]
            : match(a.fields[i]!.value, f.value, mode, `${path}.${f.name}`),
        ),
      ];
    }
    case 'struct': {
      if (!(a instanceof MatStruct)) return bad('expected MatStruct');
      const fields = d.fields as string[];
      const data = d.data as Desc[][];
      const errs = shapeEq(a.shape, d.shape as number[], path);
      if (a.fields.join('\0') !== fields.join('\0')) return [...errs, ...bad(`fields ${fields.join(',')}`)];
      if (a.size !== data.length) return [...errs, ...bad('element count differs')];
      return [...errs, ...data.flatMap((row, e) => row.flatMap((v, f) => match(a.values[e * fields.length + f], v, mode, `${path}(${e}).${fields[f]}`)))];
    }
    case 'cell': {
      if (!(a instanceof MatCell)) return bad('expected MatCell');
      const errs = shapeEq(a.shape, d.shape as number[], path);
      return [...errs, ...seq(a.data, d.data as Desc[], mode, path)];
    }
  }
  return [`${path}: unknown description kind ${d.kind}`];
}

function seq(a: readonly unknown[], want: Desc[], mode: MatchMode, path: string): string[] {
  if (a.length !== want.length) return [`${path}: length ${a.length}, expected ${want.length}`];
  return want.flatMap((w, i) => match(a[i], w, mode, `${path}[${i}]`));
}

function shapeEq(a: readonly number[], b: readonly number[], path: string): string[] {
  return a.join(',') === b.join(',') ? [] : [`${path}: shape [${a.join(',')}], expected [${b.join(',')}]`];
}

function npscalar(a: unknown, d: Desc, mode: MatchMode, path: string): string[] {
  const dtype = d.dtype as string;
  const bad = (msg: string): string[] => [`${path}: ${msg} (got ${describe(a)})`];
  let v: unknown = a;
  if (mode.typed) {
    if (!(a instanceof NpScalar) || a.dtype !== dtype) return bad(`expected NpScalar ${dtype}`);
    v = a.value;
  }
  const unit = dtUnit(dtype);
  if (unit) {
    const count = BigInt(d.value as string);
    if (mode.typed) return v === count ? [] : bad(`expected ${count}`);
    // Plain mode gives numpy's .item(): a Date for us-like units, a count for ns and finer.
    if (v instanceof Date) {
      const us = BigInt(v.getTime()) * 1000n + BigInt(v instanceof DateTime ? v.extraMicros : 0);
      const per = US_PER_UNIT[unit];
      return per !== undefined && us === count * per ? [] : bad(`expected datetime64 ${count}`);
    }
    return (typeof v === 'number' || typeof v === 'bigint') && BigInt(v) === count ? [] : bad(`expected ${count}`);
  }
  if (dtype === 'bool') return v === d.value ? [] : bad(`expected ${String(d.value)}`);
  if (dtype.startsWith('complex')) {
    const [re, im] = d.value as [unknown, unknown];
    return v instanceof Complex && complexPartEq(v.re, num(re)) && complexPartEq(v.im, num(im)) ? [] : bad('expected complex');
  }
  if (dtype.includes('int')) {
    if (typeof v !== 'number' && typeof v !== 'bigint') return bad('expected an integer');
    if (!mode.typed && typeof v === 'bigint' && Number.isSafeInteger(Number(v))) return bad('safe integer should be a number');
    return BigInt(v) === BigInt(d.value as number | string) ? [] : bad(`expected ${String(d.value)}`);
  }
  return typeof v === 'number' && floatEq(v, num(d.value)) ? [] : bad(`expected ${String(d.value)}`);
}

function ndarray(a: unknown, d: Desc, mode: MatchMode, path: string): string[] {
  const dtype = d.dtype as string;
  const shape = d.shape as number[];
  const data = d.data as unknown[];
  const bad = (msg: string): string[] => [`${path}: ${msg} (got ${describe(a)})`];
  if (dtype === 'str') {
    // Upstream decodes MATLAB char arrays to numpy str arrays; we keep a CharArray.
    if (!(a instanceof CharArray)) return bad('expected CharArray');
    const row = !mode.squeeze && a.isRow;
    const gotShape = row ? [1] : a.shape;
    const gotData = row ? [a.toString()] : Array.from(a.data, (c) => String.fromCharCode(c));
    return [...shapeEq(gotShape, shape, path), ...(gotData.join('\0') === data.join('\0') ? [] : bad(`chars ${JSON.stringify(data)}`))];
  }
  if (!(a instanceof NDArray) || a instanceof MatCell) return bad(`expected NDArray ${dtype}`);
  const errs = shapeEq(a.shape, shape, path);
  if (a.order !== 'F') errs.push(`${path}: order ${a.order}`);
  const unit = dtUnit(dtype);
  if (unit) {
    if (!(a instanceof Datetime64Array) || a.unit !== unit) return [...errs, ...bad(`expected Datetime64Array ${unit}`)];
    return [...errs, ...(Array.from(a.data).join() === data.join() ? [] : bad('datetime64 data differs'))];
  }
  if (a instanceof Datetime64Array) return bad('unexpected Datetime64Array');
  if (a.dtype !== dtype) return [...errs, ...bad(`dtype ${a.dtype}, expected ${dtype}`)];
  if (dtype === 'object') return [...errs, ...seq(a.data as unknown[], data as Desc[], mode, path)];
  const arr = a.data as ArrayLike<number | bigint>;
  const cplx = dtype.startsWith('complex');
  if (arr.length !== data.length * (cplx ? 2 : 1)) return [...errs, ...bad('data length differs')];
  for (let i = 0; i < data.length; i++) {
    const w = data[i];
    let ok: boolean;
    if (dtype === 'bool') ok = arr[i] === (w ? 1 : 0);
    else if (cplx) {
      const [re, im] = w as [unknown, unknown];
      ok = complexPartEq(arr[2 * i] as number, num(re)) && complexPartEq(arr[2 * i + 1] as number, num(im));
    } else if (dtype.endsWith('int64')) ok = arr[i] === BigInt(w as string);
    else ok = floatEq(arr[i] as number, num(w));
    if (!ok) return [...errs, `${path}[${i}]: ${String(arr[i])} expected ${JSON.stringify(w)}`];
  }
  return errs;
}

function describe(a: unknown): string {
  if (a === null || a === undefined) return String(a);
  if (typeof a === 'bigint') return `${a}n`;
  if (typeof a !== 'object') return `${typeof a} ${JSON.stringify(a)}`;
  const name = (a as { constructor?: { name?: string } }).constructor?.name ?? 'Object';
  if (a instanceof NDArray) return `${name}<${a.dtype}>[${a.shape.join(',')}]`;
  return name;
}

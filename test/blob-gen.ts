/**
 * Random value generator and deep comparison for the blob round-trip tests.
 */
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
  DATETIME64_UNITS,
  type NumericDtype,
  type RecField,
} from '../src/blob/index.js';
import { rng } from '../examples/random.js';

// A small deterministic PRNG (mulberry32, the examples' own), so failures reproduce.
export { rng };

export const DTYPES: NumericDtype[] = ['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'complex64', 'complex128'];

export function gen(seed: number) {
  const rand = rng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

  const str = (): string => {
    const pool = ['a', 'Z', ' ', 'é', 'ß', '✓', '中', '😀', '\n', '\0', 'x'];
    return Array.from({ length: int(12) }, () => pick(pool)).join('');
  };
  const shape = (maxNdim = 3): number[] => Array.from({ length: 1 + int(maxNdim) }, () => int(4));
  const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

  const numeric = (dtype: NumericDtype, n: number): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      switch (dtype) {
        case 'bool':
          out.push(rand() < 0.5);
          break;
        case 'int8':
          out.push(int(256) - 128);
          break;
        case 'uint8':
          out.push(int(256));
          break;
        case 'int16':
          out.push(int(65536) - 32768);
          break;
        case 'uint16':
          out.push(int(65536));
          break;
        case 'int32':
          out.push(int(2 ** 32) - 2 ** 31);
          break;
        case 'uint32':
          out.push(int(2 ** 32));
          break;
        case 'int64':
          out.push(BigInt.asIntN(64, BigInt(int(2 ** 32)) * BigInt(int(2 ** 32)) * (rand() < 0.5 ? -1n : 1n)));
          break;
        case 'uint64':
          out.push(BigInt(int(2 ** 32)) * BigInt(int(2 ** 32)));
          break;
        case 'float32':
          out.push(Math.fround(pick([0, -0, NaN, Infinity, -1.5, rand() * 1e6])));
          break;
        case 'float64':
        case 'complex64':
        case 'complex128': {
          const f = (): number => {
            const x = pick([0, -0, NaN, -Infinity, 1e-300, rand() * 1e9 - 5e8]);
            return dtype === 'complex64' ? Math.fround(x) : x;
          };
          out.push(dtype === 'float64' ? f() : new Complex(f(), f()));
          break;
        }
      }
    }
    return out;
  };

  const ndarray = (): NDArray => {
    const dtype = pick(DTYPES);
    const s = shape();
    return new NDArray({ dtype, shape: s, data: numeric(dtype, size(s)), order: rand() < 0.3 ? 'C' : 'F' });
  };

  const scalar = (): unknown =>
    pick<() => unknown>([
      () => null,
      () => rand() < 0.5,
      () => int(2 ** 20) - 2 ** 19,
      () => (rand() < 0.5 ? -1 : 1) * int(Number.MAX_SAFE_INTEGER),
      () => (rand() < 0.5 ? -1n : 1n) * (2n ** BigInt(53 + int(200))) + BigInt(int(1000)),
      () => new PyFloat(pick([0, -0, NaN, Infinity, -Infinity, 3, rand()])),
      () => rand() * 100 - 50,
      () => new Complex(rand(), -rand()),
      str,
      () => Buffer.from(Array.from({ length: int(10) }, () => int(256))),
      () => new Decimal(pick(['1.24', '-112122121.000003000', '1E+5', 'NaN', '-Infinity', '0.000'])),
      () => new UUID(Buffer.from(Array.from({ length: 16 }, () => int(256)))),
      () => new Date(Date.UTC(1 + int(9999), int(12), 1 + int(28), int(24), int(60), int(60), int(1000))),
      () => DateTime.fromParts(1900 + int(300), 1 + int(12), 1 + int(28), int(24), int(60), int(60), int(1_000_000)),
      () => new DateOnly(1 + int(9999), 1 + int(12), 1 + int(28)),
      () => new TimeOfDay(int(24), int(60), int(60), int(1_000_000)),
      () => {
        const dtype = pick(DTYPES);
        const [v] = numeric(dtype, 1);
        return new NpScalar(dtype, dtype === 'bool' ? (v as boolean) : (v as number | bigint | Complex));
      },
      () => new NpScalar(`datetime64[${pick(DATETIME64_UNITS)}]`, BigInt(int(2 ** 31))),
    ])();

  const value = (depth: number): unknown => {
    if (depth > 3 || rand() < 0.35) return scalar();
    const kids = (n: number): unknown[] => Array.from({ length: n }, () => value(depth + 1));
    return pick<() => unknown>([
      () => kids(int(5)),
      () => new Tuple(...kids(int(4))),
      () => new Set(kids(int(4)).filter((x) => typeof x !== 'object' || x === null)),
      () => Object.fromEntries(kids(int(4)).map((v, i) => [`k${i}${str()}`, v])),
      // at least one non-string key, or it decodes as a plain object (by design)
      () =>
        new Map<unknown, unknown>([
          [int(9), value(depth + 1)],
          ...kids(int(3)).map((v, i): [unknown, unknown] => [pick<unknown>([`s${i}`, new Tuple<unknown>(i, 'x'), null]), v]),
        ]),
      ndarray,
      () => {
        // a bare typed array packs as a 1-D array
        const dtype = pick(DTYPES.filter((d) => d !== 'bool' && !d.startsWith('complex')));
        const n = int(5);
        return new NDArray({ dtype, shape: [n], data: numeric(dtype, n) }).data;
      },
      () => {
        const s = shape(2);
        return new NDArray({ dtype: 'object', shape: s, data: kids(size(s)) });
      },
      () => {
        // non-empty: an empty cell decodes with shape [0] whatever its shape was (as upstream)
        const s = shape(2).map((d) => d + 1);
        return new MatCell({ shape: s, data: kids(size(s)) });
      },
      () => {
        const s = shape(2);
        const fields = ['a', 'b', 'c'].slice(0, int(4));
        return new MatStruct({ shape: s, fields, values: kids(size(s) * fields.length) });
      },
      () => {
        const s = [1, 1 + int(6)];
        return new CharArray({ shape: s, data: Array.from({ length: size(s) }, () => pick([65, 98, 0xe9, 0x4e2d, 32])) });
      },
      () => {
        const s = shape(2);
        const fields: Array<{ name: string; value: RecField }> = [];
        for (let i = 0, n = 1 + int(3); i < n; i++) {
          const dtype = pick(DTYPES);
          fields.push({ name: `f${i}`, value: new NDArray({ dtype, shape: s, data: numeric(dtype, size(s)) }) });
        }
        return new RecArray(fields);
      },
      () => {
        const s = shape(2);
        return new Datetime64Array({ unit: pick(DATETIME64_UNITS), shape: s, data: Array.from({ length: size(s) }, () => BigInt(int(2 ** 40))) });
      },
    ])();
  };
  return value;
}

/** Deep equality between a packed value and what unpack (typedScalars) returns for it. */
export function same(a: unknown, b: unknown, path = '$'): string | null {
  const fail = (m: string): string => `${path}: ${m}`;
  if (typeof a === 'number') {
    // Safe integers come back as ints; other numbers as Python floats (PyFloat in typed mode).
    if (Number.isSafeInteger(a) && !Object.is(a, -0)) return a === b ? null : fail(`${a} vs ${String(b)}`);
    return b instanceof PyFloat && Object.is(b.value, a) ? null : fail(`float ${a}`);
  }
  if (typeof a === 'bigint') {
    const ok = typeof b === 'bigint' ? a === b : typeof b === 'number' && BigInt(b) === a;
    return ok ? null : fail(`bigint ${a}`);
  }
  if (a === null || a === undefined || typeof a !== 'object') return Object.is(a, b) ? null : fail(`${String(a)} vs ${String(b)}`);
  if (a instanceof PyFloat) return b instanceof PyFloat && Object.is(a.value, b.value) ? null : fail('PyFloat');
  if (a instanceof Complex) return b instanceof Complex && Object.is(a.re, b.re) && Object.is(a.im, b.im) ? null : fail('Complex');
  if (a instanceof Decimal || a instanceof UUID) return b?.constructor === a.constructor && String(a) === String(b) ? null : fail('wrapper');
  if (a instanceof TimeOfDay) return b instanceof TimeOfDay && String(a) === String(b) ? null : fail('time');
  if (a instanceof DateOnly) return b instanceof DateOnly && a.getTime() === b.getTime() ? null : fail('date');
  if (a instanceof Date) {
    const us = (d: Date): number => d.getTime() * 1000 + (d instanceof DateTime ? d.extraMicros : 0);
    return b instanceof Date && !(b instanceof DateOnly) && us(a) === us(b) ? null : fail('datetime');
  }
  if (Buffer.isBuffer(a)) return Buffer.isBuffer(b) && a.equals(b) ? null : fail('bytes');
  if (a instanceof NpScalar) {
    if (!(b instanceof NpScalar) || a.dtype !== b.dtype) return fail(`NpScalar ${a.dtype}`);
    const x = a.value;
    const y = b.value;
    if (x instanceof Complex) return same(x, y, path);
    if (a.dtype === 'float32') return Object.is(Math.fround(x as number), y) ? null : fail('float32');
    if (typeof x === 'bigint' || typeof y === 'bigint') return BigInt(x as number) === BigInt(y as number) ? null : fail('int');
    return Object.is(x, y) ? null : fail(`${String(x)} vs ${String(y)}`);
  }
  if (ArrayBuffer.isView(a) && !(a instanceof DataView)) {
    if (!(b instanceof NDArray) || b.ndim !== 1) return fail('typed array → 1-D NDArray');
    const t = a as Float64Array;
    return same(new NDArray({ dtype: b.dtype, shape: [t.length], data: t }), b, path);
  }
  if (a instanceof CharArray) {
    return b instanceof CharArray && a.shape.join() === b.shape.join() && a.data.join() === b.data.join() ? null : fail('CharArray');
  }
  if (a instanceof MatCell) {
    if (!(b instanceof MatCell)) return fail('MatCell');
    if (a.size === 0) return b.size === 0 ? null : fail('empty cell');
    if (a.shape.join() !== b.shape.join()) return fail('cell shape');
    const af = a.toOrder('F').data;
    for (let i = 0; i < af.length; i++) {
      const r = same(af[i], b.data[i], `${path}{${i}}`);
      if (r) return r;
    }
    return null;
  }
  if (a instanceof NDArray) {
    if (a.ndim === 0) {
      // 0-d arrays are numpy scalars.
      return same(new NpScalar(a.dtype as NumericDtype, a.get() as number), b, path);
    }
    if (!(b instanceof NDArray) || b.dtype !== a.dtype || a.shape.join() !== b.shape.join() || b.order !== 'F') return fail('NDArray');
    if (a instanceof Datetime64Array && (!(b instanceof Datetime64Array) || a.unit !== b.unit)) return fail('datetime64 unit');
    const af = a.toOrder('F');
    for (let i = 0; i < a.size; i++) {
      const x = af.get(i);
      const y = b.get(i);
      const r = a.dtype === 'object' ? same(x, y, `${path}[${i}]`) : x instanceof Complex ? same(x, y) : Object.is(x, y) ? null : fail(`[${i}] ${String(x)} vs ${String(y)}`);
      if (r) return r;
    }
    return null;
  }
  if (a instanceof MatStruct) {
    if (!(b instanceof MatStruct) || a.shape.join() !== b.shape.join() || a.fields.join() !== b.fields.join()) return fail('MatStruct');
    for (let i = 0; i < a.values.length; i++) {
      const r = same(a.values[i], b.values[i], `${path}.values[${i}]`);
      if (r) return r;
    }
    return null;
  }
  if (a instanceof RecArray) {
    if (!(b instanceof RecArray) || a.names.join() !== b.names.join()) return fail('RecArray');
    for (const f of a.fields) {
      const r = same(f.value, b.field(f.name), `${path}.${f.name}`);
      if (r) return r;
    }
    return null;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || (a instanceof Tuple) !== (b instanceof Tuple) || a.length !== b.length) return fail('array');
    for (let i = 0; i < a.length; i++) {
      const r = same(a[i], b[i], `${path}[${i}]`);
      if (r) return r;
    }
    return null;
  }
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size) return fail('set');
    return same([...a], [...b], path);
  }
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return fail('Map');
    return same([...a.entries()].flat(), [...b.entries()].flat(), path);
  }
  const ka = Object.keys(a);
  if (b === null || typeof b !== 'object' || Object.getPrototypeOf(b) !== Object.prototype) return fail('object');
  const kb = Object.keys(b);
  if (ka.join('\0') !== kb.join('\0')) return fail('keys');
  for (const k of ka) {
    const r = same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (r) return r;
  }
  return null;
}


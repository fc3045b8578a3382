/**
 * Driver results → JS values, column by column. Rows arrive from the driver as arrays
 * (rowsAsArray), so nothing builds per-row objects unless rows are asked for.
 */
import type { Attribute } from '../heading/heading.js';
import type { FieldInfo } from '../adapters/adapter.js';
import { decoderFor } from './convert.js';

export type { FieldInfo } from '../adapters/adapter.js';

export type Decoder = (v: unknown) => unknown;

/**
 * The value kind of an attribute; for a computed attribute of unknown type (kind 'other'),
 * the kind the driver reports for the result column.
 */
export function effectiveKind(a: Attribute, field?: FieldInfo): Attribute['kind'] {
  if (a.kind !== 'other' || a.codec || !field?.kind) return a.kind;
  return field.kind;
}

/** Converter for one result column (codecs excluded: they decode asynchronously). */
export function columnDecoder(a: Attribute, field?: FieldInfo): Decoder | null {
  const kind = effectiveKind(a, field);
  return kind === a.kind ? decoderFor(a) : decoderFor({ ...a, kind });
}

/** `(row: unknown[]) => object` with the given keys, compiled once so rows share one shape. */
export function rowFactory(names: readonly string[]): (r: unknown[]) => Record<string, unknown> {
  if (names.some((n) => n === '__proto__' || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(n))) {
    return (r) => {
      const o: Record<string, unknown> = {};
      for (let j = 0; j < names.length; j++) Object.defineProperty(o, names[j]!, { value: r[j], enumerable: true, writable: true, configurable: true });
      return o;
    };
  }
  const body = `return {${names.map((n, j) => `${JSON.stringify(n)}: r[${j}]`).join(', ')}};`;
  return new Function('r', body) as (r: unknown[]) => Record<string, unknown>;
}

/** Apply per-column decoders to row arrays in place. */
export function decodeRowsInPlace(rows: unknown[][], decoders: ReadonlyArray<Decoder | null>): void {
  const active: Array<[number, Decoder]> = [];
  decoders.forEach((d, j) => d && active.push([j, d]));
  if (!active.length) return;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    for (let k = 0; k < active.length; k++) {
      const [j, d] = active[k]!;
      r[j] = d(r[j]);
    }
  }
}

/**
 * Deep, stable hash of fetched data for the three-part make's change check: equal content
 * gives an equal hash regardless of object key order; typed arrays hash by their bytes.
 */
import { createHash, type Hash } from 'node:crypto';
import { arrowData, arrowDataBuffers, arrowKind, refuseDetached, type ArrowDataLike, type ArrowKind } from './transfer.js';
import { extraMicros } from '../connection/datetime.js';

/** Arrow data by content: its schema and every buffer of its Data tree (not lazy caches). */
function feedArrow(h: Hash, d: ArrowDataLike, seen: Set<object>): void {
  h.update(`A${d.offset},${d.length}[`);
  for (const b of arrowDataBuffers(d)) feed(h, b ?? null, seen);
  for (const c of d.children ?? []) feedArrow(h, c, seen);
  for (const c of d.dictionary?.data ?? []) feedArrow(h, c, seen);
  h.update(']');
}

function feed(h: Hash, v: unknown, seen: Set<object>): void {
  if (v === null) return void h.update('N');
  switch (typeof v) {
    case 'undefined':
      return void h.update('U');
    case 'boolean':
      return void h.update(v ? 'T' : 'F');
    case 'number':
      return void h.update(`n${Object.is(v, -0) ? '-0' : String(v)};`);
    case 'bigint':
      return void h.update(`b${v.toString()};`);
    case 'string':
      h.update(`s${Buffer.byteLength(v)}:`);
      return void h.update(v);
    case 'function':
    case 'symbol':
      return void h.update(`f${String(v)};`);
  }
  const o = v as object;
  if (seen.has(o)) return void h.update('cycle;');
  seen.add(o);
  let kind: ArrowKind | null;
  if (ArrayBuffer.isView(o)) {
    refuseDetached(o); // no bytes to hash: V8's "Cannot perform Construct on a detached ArrayBuffer" otherwise
    h.update(`v${o.constructor.name}${o.byteLength}:`);
    h.update(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
  } else if (o instanceof ArrayBuffer) {
    refuseDetached(o);
    h.update(`B${o.byteLength}:`);
    h.update(new Uint8Array(o));
  } else if ((kind = arrowKind(o))) {
    const schema = kind === 'vector' ? String((o as { type: unknown }).type) : String((o as { schema: { fields: unknown[] } }).schema.fields.map(String));
    h.update(`arrow:${kind}:${schema}{`);
    for (const d of arrowData(o, kind)) feedArrow(h, d, seen);
    h.update('}');
  } else if (o instanceof Date) {
    // With the microseconds a datetime(6) value carries beyond the millisecond (dj.blob.DateTime).
    const extra = extraMicros(o);
    h.update(`d${o.getTime()}${extra ? `.${extra}` : ''};`);
  } else if (Array.isArray(o)) {
    h.update(`a${o.length}[`);
    for (const x of o) feed(h, x, seen);
    h.update(']');
  } else if (o instanceof Map) {
    const entries = [...o.entries()].map(([k, x]) => [stableHash(k), x] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    h.update(`m${entries.length}{`);
    for (const [k, x] of entries) {
      h.update(k);
      feed(h, x, seen);
    }
    h.update('}');
  } else if (o instanceof Set) {
    const items = [...o].map((x) => stableHash(x)).sort();
    h.update(`S${items.length}{${items.join(',')}}`);
  } else {
    const keys = Object.keys(o).sort();
    h.update(`o${o.constructor?.name ?? ''}${keys.length}{`);
    for (const k of keys) {
      h.update(`${k}=`);
      feed(h, (o as Record<string, unknown>)[k], seen);
    }
    h.update('}');
  }
  seen.delete(o);
}

export function stableHash(value: unknown): string {
  const h = createHash('md5');
  feed(h, value, new Set());
  return h.digest('hex');
}

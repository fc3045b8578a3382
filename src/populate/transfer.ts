/**
 * Moving make data between threads without copies (API.md §6). What makeFetch returns goes to
 * the worker, and what makeCompute returns comes back, as a message whose array buffers are
 * *transferred*: the receiving thread gets the same memory and the sender's views become
 * detached (length 0). Structured clone alone would copy every buffer and drop classes, so
 * values are packed first:
 *   - typed arrays, DataViews, ArrayBuffers: moved (their buffers go on the transfer list);
 *   - `Buffer`: moved, and a `Buffer` again on the other side (structured clone makes it a
 *     plain Uint8Array);
 *   - `dj.NDArray`: its data moved, an NDArray again on the other side;
 *   - apache-arrow `Table`, `RecordBatch`, `Vector`: every column buffer moved; the schema
 *     travels as a few hundred bytes of Arrow IPC and the table is rebuilt over the moved
 *     buffers (transfer-arrow.ts);
 *   - `dj.ObjectRef` (an `<object@>` value): its metadata and store name travel, and it is an
 *     ObjectRef again on the other side, over that thread's own handle on the same store;
 *   - plain objects, arrays, Maps and Sets are walked; anything else is structured-cloned;
 *     functions, symbols, Promises and weak collections among them are refused (UnsendableValue).
 * A buffer moves only when the value owns it: its views cover it whole, or (above Node's
 * Buffer pool size) at least half of it. Views into someone else's larger buffer, such as the
 * 8 KiB pool slabs small Buffers share, are copied (only their own bytes) rather than detaching
 * memory the rest of the program still uses. SharedArrayBuffers are shared, never copied.
 * An array already detached (a module kept it and returns it again after it moved) is refused
 * with DetachedData, as is hashing it for the change check, rather than failing in V8.
 */
import { NDArray } from '../blob/ndarray.js';
import { DateTime } from '../blob/time.js';
import { DataJointError } from '../errors.js';
import { ObjectRef } from '../objects/object-ref.js';
import type { ObjectMetadata } from '../stores/metadata.js';
import { getStore } from '../stores/registry.js';
import type { ObjectStore } from '../stores/store.js';
import type * as ArrowTransfer from './transfer-arrow.js';

/**
 * A value another thread cannot receive: structured clone refuses functions, symbols, Promises
 * and weak collections. Said before anything is sent: a refused message would otherwise fail
 * inside the thread pool, and a result a worker cannot post back takes that thread down.
 */
export class UnsendableValue extends DataJointError {}

/** What `value` is, when it is one structured clone refuses. */
function unsendable(value: unknown): string | null {
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (typeof value === 'symbol') return `a symbol (${String(value)})`;
  if (value instanceof Promise) return 'a Promise (is an await missing?)';
  if (value instanceof WeakMap || value instanceof WeakSet) return 'a WeakMap or WeakSet';
  return null;
}

/**
 * Data whose memory was already moved to another thread: a detached ArrayBuffer (length 0),
 * which can be neither sent, nor read, nor hashed for the change check. What a make step
 * returns is moved, not copied, so an array a module keeps and returns on every call is
 * detached by the first key that sends it (see keptDataMoved).
 */
export class DetachedData extends UnsendableValue {}

/** Whether `buf` is detached. Node 20 has no ArrayBuffer.prototype.detached; no view can be made over a detached buffer. */
export function isDetached(buf: ArrayBufferLike): boolean {
  if (!(buf instanceof ArrayBuffer) || buf.byteLength !== 0) return false;
  const flag = (buf as { detached?: unknown }).detached;
  if (typeof flag === 'boolean') return flag;
  try {
    new Uint8Array(buf);
    return false;
  } catch {
    return true;
  }
}

/** Throws DetachedData for a view or ArrayBuffer whose memory has moved away. */
export function refuseDetached(value: ArrayBufferView | ArrayBuffer): void {
  if (isDetached(ArrayBuffer.isView(value) ? value.buffer : value)) throw new DetachedData(`it holds ${/^[AEIOU]/.test(value.constructor.name) ? 'an' : 'a'} ${value.constructor.name} that is detached (length 0: its memory was moved to another thread)`);
}

/** The error for a make step (`step`, e.g. "Analysis.makeFetch") that returned detached data: what happened, and what to return instead. */
export function keptDataMoved(step: string, e: DetachedData): DetachedData {
  return new DetachedData(
    `${step} returned data that an earlier call already moved away: ${e.message}. With populate({ processes }), what ${step} returns is moved, not copied, leaving the sender's arrays detached, so an array kept by the module and returned on every call is empty after the first key. Return a new array from each call, or a copy of the one kept (kept.slice(), Buffer.from(kept), new dj.NDArray({ ...kept, data: kept.data.slice() }))`,
  );
}

const TAG = '__datajoint_transfer__';

/** A message ready for postMessage: the packed value and the buffers to transfer with it. */
export interface Packed {
  value: unknown;
  transferList: ArrayBuffer[];
}

type View = ArrayBufferView;

/** Apache-arrow objects, told apart without importing apache-arrow. */
export type ArrowKind = 'table' | 'batch' | 'vector';
export function arrowKind(o: object): ArrowKind | null {
  const tag = (o.constructor as { [Symbol.toStringTag]?: unknown } | undefined)?.[Symbol.toStringTag];
  if (tag === 'Table' && 'batches' in o && 'schema' in o) return 'table';
  if (tag === 'RecordBatch' && 'data' in o && 'schema' in o) return 'batch';
  if ((o as Record<symbol, unknown>)[Symbol.for('apache-arrow/Vector')] === true) return 'vector';
  return null;
}

/** The column data of an apache-arrow object (duck-typed Data nodes). */
export interface ArrowDataLike {
  offset: number;
  length: number;
  nullCount: number;
  valueOffsets?: View;
  values?: View;
  nullBitmap?: View;
  typeIds?: View;
  variadicBuffers?: readonly View[];
  children: ArrowDataLike[];
  dictionary?: { data: ArrowDataLike[] };
}
export function arrowData(o: object, kind: ArrowKind): ArrowDataLike[] {
  if (kind === 'table') return (o as { batches: Array<{ data: ArrowDataLike }> }).batches.map((b) => b.data);
  if (kind === 'batch') return [(o as { data: ArrowDataLike }).data];
  return (o as { data: ArrowDataLike[] }).data;
}
/** A Data node's own buffers, in a fixed order (absent ones undefined). */
export function arrowDataBuffers(d: ArrowDataLike): Array<View | undefined> {
  return [d.valueOffsets, d.values, d.nullBitmap, d.typeIds, ...(d.variadicBuffers ?? [])];
}
function eachArrowView(d: ArrowDataLike, visit: (v: View) => void): void {
  for (const b of arrowDataBuffers(d)) if (b && ArrayBuffer.isView(b)) visit(b);
  for (const c of d.children ?? []) eachArrowView(c, visit);
  for (const c of d.dictionary?.data ?? []) eachArrowView(c, visit);
}

const isPlain = (o: object) => {
  const p = Object.getPrototypeOf(o);
  return p === Object.prototype || p === null;
};

/** Pass 1: every view in the value, by the buffer it lives in (its covered byte range). */
function collect(value: unknown, spans: Map<ArrayBufferLike, { lo: number; hi: number }>, seen: Set<object>): boolean {
  // Primitives (most of a large plain array) cost one typeof; only functions and symbols among them are refused.
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function' || typeof value === 'symbol') throw new UnsendableValue(`it holds ${unsendable(value)}, which cannot be sent to another thread`);
    return false;
  }
  if (seen.has(value)) return false;
  const refused = unsendable(value);
  if (refused) throw new UnsendableValue(`it holds ${refused}, which cannot be sent to another thread`);
  seen.add(value);
  const note = (buf: ArrayBufferLike, lo: number, hi: number) => {
    const s = spans.get(buf);
    if (!s) spans.set(buf, { lo, hi });
    else {
      s.lo = Math.min(s.lo, lo);
      s.hi = Math.max(s.hi, hi);
    }
  };
  const view = (v: View) => {
    refuseDetached(v); // would fail inside postMessage (V8's DataCloneError, or "[object Object]" from a worker)
    note(v.buffer, v.byteOffset, v.byteOffset + v.byteLength);
  };
  if (ArrayBuffer.isView(value)) return view(value), false;
  if (value instanceof ArrayBuffer) return refuseDetached(value), note(value, 0, value.byteLength), false;
  if (value instanceof NDArray) return collect(value.data, spans, seen);
  const kind = arrowKind(value);
  if (kind) {
    for (const d of arrowData(value, kind)) eachArrowView(d, view);
    return true;
  }
  let arrow = false;
  if (Array.isArray(value) || value instanceof Set) for (const x of value) arrow = collect(x, spans, seen) || arrow;
  else if (value instanceof Map)
    for (const [k, x] of value) {
      arrow = collect(k, spans, seen) || arrow;
      arrow = collect(x, spans, seen) || arrow;
    }
  else if (isPlain(value)) for (const x of Object.values(value)) arrow = collect(x, spans, seen) || arrow;
  return arrow;
}

/** Whether the value owns this buffer (see the module comment). */
function owned(buf: ArrayBufferLike, s: { lo: number; hi: number }): boolean {
  if (!(buf instanceof ArrayBuffer) || buf.byteLength === 0) return false;
  if (s.lo === 0 && s.hi === buf.byteLength) return true;
  return buf.byteLength > Buffer.poolSize && 2 * (s.hi - s.lo) >= buf.byteLength;
}

/** Packs a value for another thread. Loads apache-arrow only when the value holds Arrow data. */
export async function packForTransfer(value: unknown): Promise<Packed> {
  const spans = new Map<ArrayBufferLike, { lo: number; hi: number }>();
  const hasArrow = collect(value, spans, new Set());
  const move = new Set<ArrayBuffer>();
  for (const [buf, s] of spans) if (owned(buf, s)) move.add(buf as ArrayBuffer);
  const arrow = hasArrow ? await import('./transfer-arrow.js') : null;
  const packer = new Packer(move, arrow);
  const packed = packer.pack(value);
  if (!packer.special) return { value: packed, transferList: [...move] };
  return { value: { [TAG]: 'message', arrow: hasArrow, stores: [...packer.stores], value: packed }, transferList: [...move] };
}

/** Pass 2: the value with tagged stand-ins for what structured clone would not keep. */
export class Packer {
  special = false;
  /** Stores named by the ObjectRefs packed: the receiving thread opens them before unpacking. */
  readonly stores = new Set<string>();
  #seen = new Set<object>();
  constructor(
    readonly move: Set<ArrayBuffer>,
    private readonly arrow: typeof ArrowTransfer | null,
  ) {}

  /** A view as sent: itself if its buffer moves (or is shared), else a copy of its bytes that moves. */
  view<V extends View>(v: V): V {
    if (!(v.buffer instanceof ArrayBuffer) || this.move.has(v.buffer) || v.buffer.byteLength === 0) return v;
    const bytes = new Uint8Array(v.byteLength);
    bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    this.move.add(bytes.buffer);
    const Ctor = v.constructor as new (b: ArrayBuffer, o: number, n: number) => V;
    const per = 'BYTES_PER_ELEMENT' in v ? (v as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
    return Buffer.isBuffer(v) ? (bytes as unknown as V) : new Ctor(bytes.buffer, 0, v.byteLength / per);
  }

  pack(value: unknown): unknown {
    if (value === null || typeof value !== 'object' || this.#seen.has(value)) return value;
    if (ArrayBuffer.isView(value)) {
      const sent = this.view(value);
      if (!Buffer.isBuffer(value)) return sent;
      this.special = true;
      return { [TAG]: 'buffer', bytes: sent };
    }
    if (value instanceof ArrayBuffer) {
      if (!this.move.has(value)) this.move.add((value = value.slice(0)) as ArrayBuffer);
      return value;
    }
    if (value instanceof NDArray) {
      this.special = true;
      return { [TAG]: 'ndarray', dtype: value.dtype, shape: value.shape, order: value.order, data: this.pack(value.data) };
    }
    if (value instanceof ObjectRef) {
      this.special = true;
      this.stores.add(value.store);
      return { [TAG]: 'objectref', metadata: value.metadata, store: value.store };
    }
    const kind = arrowKind(value);
    if (kind && this.arrow) {
      this.special = true;
      return { [TAG]: 'arrow', ...this.arrow.packArrow(value, kind, this) };
    }
    this.#seen.add(value);
    try {
      if (Array.isArray(value)) {
        let out: unknown[] | null = null;
        for (let i = 0; i < value.length; i++) {
          const x = value[i];
          if (x === null || typeof x !== 'object') continue;
          const p = this.pack(x);
          if (p !== x) (out ??= value.slice())[i] = p;
        }
        return out ?? value;
      }
      if (value instanceof Map) return new Map([...value].map(([k, x]) => [this.pack(k), this.pack(x)]));
      if (value instanceof Set) return new Set([...value].map((x) => this.pack(x)));
      if (!isPlain(value)) return value;
      let out: Record<string, unknown> | null = null;
      for (const [k, x] of Object.entries(value)) {
        const p = this.pack(x);
        if (p !== x) (out ??= { ...value })[k] = p;
      }
      return out ?? value;
    } finally {
      this.#seen.delete(value);
    }
  }
}

/** The value a packed message stood for, over the moved memory. */
export async function unpackTransferred(message: unknown): Promise<unknown> {
  if (!isTagged(message) || message[TAG] !== 'message') return message;
  const m = message as unknown as { arrow: boolean; stores: string[]; value: unknown };
  const arrow = m.arrow ? await import('./transfer-arrow.js') : null;
  // An ObjectRef is made again over this thread's handle on its store, opened beforehand.
  const stores = new Map(await Promise.all(m.stores.map(async (name) => [name, await getStore(name)] as const)));
  return unpack(m.value, { arrow, stores }, new Set());
}

interface Unpackers {
  arrow: typeof ArrowTransfer | null;
  stores: ReadonlyMap<string, ObjectStore>;
}

function isTagged(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && Object.hasOwn(v, TAG);
}

function unpack(v: unknown, using: Unpackers, seen: Set<object>): unknown {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || seen.has(v)) return v;
  seen.add(v);
  const un = (x: unknown) => unpack(x, using, seen);
  if (isTagged(v)) {
    const o = v as Record<string, unknown>;
    switch (o[TAG]) {
      case 'buffer': {
        const b = o.bytes as Uint8Array;
        return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      }
      case 'ndarray':
        return new NDArray({ dtype: o.dtype, shape: o.shape, order: o.order, data: un(o.data) } as ConstructorParameters<typeof NDArray>[0]);
      case 'arrow':
        return using.arrow!.unpackArrow(o as unknown as ArrowTransfer.PackedArrow);
      case 'objectref':
        return new ObjectRef(o.metadata as ObjectMetadata, using.stores.get(o.store as string)!);
    }
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (v[i] !== null && typeof v[i] === 'object') v[i] = un(v[i]);
    return v;
  }
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [un(k), un(x)]));
  if (v instanceof Set) return new Set([...v].map((x) => un(x)));
  if (isPlain(v)) for (const [k, x] of Object.entries(v)) if (x !== null && typeof x === 'object') (v as Record<string, unknown>)[k] = un(x);
  return v;
}

type KeyRow = Record<string, unknown>;
const DATETIME = '__datajoint_datetime__';
/**
 * Keys for another thread. A datetime(6) key value with microseconds is a DateTime (a Date
 * with `extraMicros`), which structured clone would deliver as a plain Date without them: it
 * then matched no row. Such values travel tagged; other keys go as they are.
 */
export function keysForThread<K extends KeyRow>(keys: K[]): K[] {
  const tagged = (v: unknown) => v instanceof DateTime && v.extraMicros > 0;
  if (!keys.some((k) => Object.values(k).some(tagged))) return keys;
  return keys.map((k) => {
    if (!Object.values(k).some(tagged)) return k;
    const out: KeyRow = { ...k };
    for (const [a, v] of Object.entries(k)) if (tagged(v)) out[a] = { [DATETIME]: (v as DateTime).getTime(), extraMicros: (v as DateTime).extraMicros };
    return out as K;
  });
}
/** The keys keysForThread sent, with their DateTime values again. */
export function keysFromThread<K extends KeyRow>(keys: K[]): K[] {
  const isTagged = (v: unknown): v is { [DATETIME]: number; extraMicros: number } => v !== null && typeof v === 'object' && Object.hasOwn(v, DATETIME);
  if (!keys.some((k) => Object.values(k).some(isTagged))) return keys;
  return keys.map((k) => {
    const out: KeyRow = { ...k };
    for (const [a, v] of Object.entries(k)) if (isTagged(v)) out[a] = new DateTime(v[DATETIME], v.extraMicros);
    return out as K;
  });
}

/**
 * The one codec registry: name → { dtype, loader }, as zarrita keeps its codecs. Built-ins are
 * present from the start but their implementations load on first use; `registerCodec` adds a
 * user's codec. Declaration and heading code ask only for dtypes (synchronously, via
 * `codecChain`); encoding and decoding load the codecs they run (`loadCodec`).
 *
 * A chain follows dtypes that name codecs: `<graph>` → `<blob>` → bytes. The store named at the
 * outermost level (`<graph@cold>`) propagates inward unless an inner dtype names its own, as in
 * DataJoint Python's `resolve_dtype`; a codec is external when a store is in effect.
 */
import { DataJointError } from '../errors.js';
import { BUILTIN_CODECS, type LazyCodec } from './builtin.js';
import type { CodecLike } from './codec.js';

interface Entry extends LazyCodec {
  /** The codec once loaded (immediately for registered instances). */
  loaded?: CodecLike;
}

const registry = new Map<string, Entry>(Object.entries(BUILTIN_CODECS).map(([n, c]) => [n, { ...c }]));
/** Bumped on every change, so cached chains and pipelines notice. */
let version = 0;

/** Registry version (changes whenever a codec is registered or removed). */
export function registryVersion(): number {
  return version;
}

const NAME = /^[a-z][a-z0-9_]*$/;
const SPEC = /^<?\s*([A-Za-z][A-Za-z0-9_]*)\s*(?:@\s*([A-Za-z0-9_]*)\s*)?>?$/;

/** `'<blob@cold>'` → `{ name: 'blob', store: 'cold' }`; `'blob'` → store null; `'<blob@>'` → store ''. */
export function parseCodecSpec(spec: string): { name: string; store: string | null } {
  const m = SPEC.exec(String(spec).trim());
  if (!m) throw new DataJointError(`Invalid codec name ${JSON.stringify(spec)}: expected name, <name>, <name@> or <name@store>`);
  return { name: m[1]!.toLowerCase(), store: m[2] ?? null };
}

function entry(name: string): Entry {
  const e = registry.get(name);
  if (!e) throw new DataJointError(`Unknown codec <${name}>; registered: ${listCodecs().join(', ')}. Register it with dj.registerCodec(new MyCodec()) before use (for populate's worker threads, in the module that defines the tables: they import only that module)`);
  return e;
}

/**
 * Register a codec (an instance, or a class with a no-argument constructor). Registering the
 * same codec (or another instance of the same class) again is a no-op; another codec under a
 * taken name is refused unless `{ replace: true }`.
 */
export function registerCodec<C extends CodecLike>(codec: C | (new () => C), options: { replace?: boolean } = {}): C {
  const instance: C = typeof codec === 'function' ? new codec() : codec;
  if (!instance || typeof instance !== 'object') throw new DataJointError('registerCodec expects a codec object or class');
  const name = instance.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new DataJointError(`Codec name must be lower-case letters, digits and _ (starting with a letter), got ${JSON.stringify(name)}`);
  }
  for (const m of ['getDtype', 'encode', 'decode'] as const) {
    if (typeof instance[m] !== 'function') throw new DataJointError(`Codec <${name}> has no ${m}() method`);
  }
  const existing = registry.get(name);
  if (existing && !options.replace) {
    const same = existing.loaded === instance || (existing.loaded && existing.loaded.constructor === instance.constructor && instance.constructor !== Object);
    if (!same) throw new DataJointError(`Codec <${name}> is already registered; pass { replace: true } to replace it`);
  }
  registry.set(name, { dtype: (ext) => instance.getDtype(ext), load: async () => instance, loaded: instance });
  version++;
  return instance;
}

/** Remove a codec (meant for tests); built-ins come back only with a new process. */
export function unregisterCodec(name: string): void {
  const n = parseCodecSpec(name).name;
  if (!registry.delete(n)) throw new DataJointError(`Codec <${n}> is not registered`);
  version++;
}

export function hasCodec(name: string): boolean {
  return registry.has(parseCodecSpec(name).name);
}

/** Registered codec names, sorted. */
export function listCodecs(): string[] {
  return [...registry.keys()].sort();
}

/** The codec named `name` (`blob`, `<blob>`, `<blob@store>`), loading it if needed. */
export async function loadCodec(name: string): Promise<CodecLike> {
  const e = entry(parseCodecSpec(name).name);
  e.loaded ??= await e.load();
  return e.loaded;
}

/**
 * The codec named `name` (`blob`, `<blob>` or `<blob@store>`; the store part is ignored). A
 * built-in that has not been loaded yet is returned as a stand-in whose methods load it first
 * (its encode/decode/validate then return promises).
 */
export function getCodec(name: string): CodecLike {
  const n = parseCodecSpec(name).name;
  const e = entry(n);
  if (e.loaded) return e.loaded;
  const load = () => loadCodec(n);
  return {
    name: n,
    getDtype: (isExternal) => e.dtype(isExternal),
    encode: async (value, ctx) => (await load()).encode(value, ctx),
    decode: async (stored, ctx) => (await load()).decode(stored, ctx),
    validate: async (value) => (await load()).validate?.(value),
  };
}

/** A resolved chain: codec names outermost first, the store in effect, and the core dtype. */
export interface CodecChain {
  codecs: string[];
  /** Store name after propagation ('' = default store), or null when in-table. */
  store: string | null;
  /** The core (or native) type that holds the stored value, e.g. `bytes`, `json`. */
  dtype: string;
}

const chains = new Map<string, { version: number; chain: CodecChain }>();

/** Follow `<name@store>` through its dtypes to the core type; throws on unknown or circular codecs. */
export function codecChain(name: string, store: string | null): CodecChain {
  const cacheKey = `${name}@${store ?? '\0'}`;
  const hit = chains.get(cacheKey);
  if (hit && hit.version === version) return hit.chain;
  const codecs: string[] = [];
  let current = name.toLowerCase();
  let st = store;
  for (;;) {
    if (codecs.includes(current)) throw new DataJointError(`Circular codec reference: <${[...codecs, current].join('> → <')}>`);
    codecs.push(current);
    const dtype = String(entry(current).dtype(st !== null)).trim();
    if (!dtype.startsWith('<')) {
      const chain = { codecs, store: st, dtype };
      chains.set(cacheKey, { version, chain });
      return chain;
    }
    const inner = parseCodecSpec(dtype);
    current = inner.name;
    if (inner.store !== null) st = inner.store;
  }
}

/**
 * The built-in codecs as the registry knows them before they are loaded: each one's storage
 * dtype (needed synchronously, to declare tables and read headings) and a loader for its
 * implementation, which brings in the object stores, hashing, zarrita… only when a value of
 * that codec is first encoded or decoded.
 *
 *   <blob>      → bytes          <blob@>     → <hash@> → json
 *   <attach>    → bytes          <attach@>   → <hash@> → json
 *   <hash@>     → json           <object@>   → json
 *   <filepath@> → json           <npy@>      → json
 */
import { BUILTIN_DTYPES } from './builtin-dtypes.js';
import type { CodecLike } from './codec.js';

/** A codec known by name, dtype and loader. */
export interface LazyCodec {
  dtype(isExternal: boolean): string;
  load(): Promise<CodecLike>;
}

const loaders: Record<string, () => Promise<CodecLike>> = {
  blob: async () => (await import('./builtin/blob.js')).blobCodec,
  attach: async () => (await import('./builtin/attach.js')).attachCodec,
  hash: async () => (await import('./builtin/hash.js')).hashCodec,
  object: async () => (await import('./builtin/object.js')).objectCodec,
  filepath: async () => (await import('./builtin/filepath.js')).filepathCodec,
  npy: async () => (await import('./builtin/npy.js')).npyCodec,
};

export const BUILTIN_CODECS: Record<string, LazyCodec> = Object.fromEntries(
  Object.entries(loaders).map(([name, load]) => [name, { dtype: BUILTIN_DTYPES[name]!, load }]),
);

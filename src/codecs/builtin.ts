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
import { DataJointError } from '../errors.js';
import type { CodecLike } from './codec.js';

/** A codec known by name, dtype and loader. */
export interface LazyCodec {
  dtype(isExternal: boolean): string;
  load(): Promise<CodecLike>;
}

const storeOnly = (name: string) => (isExternal: boolean) => {
  if (!isExternal) throw new DataJointError(`Codec <${name}> requires a store: use <${name}@> or <${name}@store>`);
  return 'json';
};
const hashedWhenExternal = (isExternal: boolean) => (isExternal ? '<hash>' : 'bytes');

export const BUILTIN_CODECS: Record<string, LazyCodec> = {
  blob: { dtype: hashedWhenExternal, load: async () => (await import('./builtin/blob.js')).blobCodec },
  attach: { dtype: hashedWhenExternal, load: async () => (await import('./builtin/attach.js')).attachCodec },
  hash: { dtype: storeOnly('hash'), load: async () => (await import('./builtin/hash.js')).hashCodec },
  object: { dtype: storeOnly('object'), load: async () => (await import('./builtin/object.js')).objectCodec },
  filepath: { dtype: storeOnly('filepath'), load: async () => (await import('./builtin/filepath.js')).filepathCodec },
  npy: { dtype: storeOnly('npy'), load: async () => (await import('./builtin/npy.js')).npyCodec },
};

/** The dtype of a built-in codec (the loaded codecs answer `getDtype` with it). */
export function builtinDtype(name: string, isExternal: boolean): string {
  return BUILTIN_CODECS[name]!.dtype(isExternal);
}

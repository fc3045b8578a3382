/** Which store a stored value lives in: the one its metadata names, else the attribute's. */
import type { CodecContext } from '../codec.js';

/**
 * The store name for reading a stored value: the metadata's `store` when the key is present
 * (null = the default store), else the attribute's (`''` → default). DataJoint Python's staged
 * inserts write no `store` key.
 */
export function storeOf(metadata: { store?: string | null }, ctx: CodecContext): string | null {
  if (metadata.store !== undefined) return metadata.store || null;
  return ctx.storeName || null;
}

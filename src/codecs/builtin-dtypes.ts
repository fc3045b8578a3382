/**
 * The storage dtype of each built-in codec, which declaring tables and reading headings need
 * synchronously. Apart from builtin.ts (which adds each codec's loader) so that the codec
 * implementations can answer `getDtype` from here without importing the loaders that import them.
 */
import { DataJointError } from '../errors.js';

const storeOnly = (name: string) => (isExternal: boolean) => {
  if (!isExternal) throw new DataJointError(`Codec <${name}> requires a store: use <${name}@> or <${name}@store>`);
  return 'json';
};
const hashedWhenExternal = (isExternal: boolean) => (isExternal ? '<hash>' : 'bytes');

/** Per built-in codec name, its dtype inside a table (false) or in a store (true). */
export const BUILTIN_DTYPES: Record<string, (isExternal: boolean) => string> = {
  blob: hashedWhenExternal,
  attach: hashedWhenExternal,
  hash: storeOnly('hash'),
  object: storeOnly('object'),
  filepath: storeOnly('filepath'),
  npy: storeOnly('npy'),
};

/** The dtype of a built-in codec (the loaded codecs answer `getDtype` with it). */
export function builtinDtype(name: string, isExternal: boolean): string {
  return BUILTIN_DTYPES[name]!(isExternal);
}

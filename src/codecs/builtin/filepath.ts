/**
 * `<filepath@store>`: a reference to a file that already is in the store (placed there by
 * acquisition software, a copy job, …); nothing is copied. The path is relative to the store's
 * location and must exist; it may not lie in DataJoint's own sections (`_hash/`, `_schema/`)
 * and must lie under `filepath_prefix` when the store sets one. The column keeps
 * `{path, store, size, is_dir, timestamp}` as DataJoint Python does, plus the file's content
 * hash for files up to `filepath_checksum_size_limit` bytes (hashing a huge file on every
 * insert is not worth it), which `ObjectRef.verify()` then checks. Fetch returns an ObjectRef.
 * `<filepath@>` uses `stores.filepath_default` when it is set, else the default store.
 */
import { config } from '../../config.js';
import { DataJointError, MissingExternalFile } from '../../errors.js';
import { createMd5 } from '../../hash.js';
import { ObjectRef } from '../../objects/object-ref.js';
import { contentHashOfDigest } from '../../stores/layout.js';
import { filepathMetadata, parseMetadata, type FilepathMetadata, type ObjectMetadata } from '../../stores/metadata.js';
import { getStore, storeSpec } from '../../stores/registry.js';
import { checkPath } from '../../stores/store.js';
import { builtinDtype } from '../builtin-dtypes.js';
import { Codec, type CodecContext } from '../codec.js';
import { storeOf } from './store-of.js';

/** The store `<filepath@>` means: `stores.filepath_default` if set, else null (the default store). */
function filepathStore(storeName: string | null): string | null {
  if (storeName) return storeName;
  const stores = config.get('stores');
  const fp = stores && typeof stores === 'object' && !Array.isArray(stores) ? (stores as Record<string, unknown>)['filepath_default'] : undefined;
  return typeof fp === 'string' && fp ? fp : null;
}

const inSection = (path: string, prefix: string) => `${path}/`.startsWith(`${prefix.replace(/^\/+|\/+$/g, '')}/`);

class FilepathCodec extends Codec {
  readonly name = 'filepath';
  getDtype(isExternal: boolean): string {
    return builtinDtype('filepath', isExternal);
  }
  validate(value: unknown): void {
    if (typeof value !== 'string' || value === '') throw new DataJointError(`<filepath@> expects a path relative to the store, got ${value === null ? 'null' : typeof value}`);
  }
  async encode(value: unknown, ctx: CodecContext): Promise<FilepathMetadata> {
    const storeName = filepathStore(ctx.storeName || null);
    const path = checkPath((value as string).replace(/^\/+/, ''), 'filepath');
    const spec = storeSpec(storeName);
    for (const [key, prefix] of [['hash_prefix', spec.hashPrefix], ['schema_prefix', spec.schemaPrefix]] as const) {
      if (inSection(path, prefix)) throw new DataJointError(`<filepath@> cannot reference "${path}": section "${prefix}" (${key}) is managed by DataJoint`);
    }
    if (spec.filepathPrefix && !inSection(path, spec.filepathPrefix)) {
      throw new DataJointError(`<filepath@> paths of store "${spec.name}" must lie under "${spec.filepathPrefix}" (filepath_prefix), got "${path}"`);
    }
    const store = await getStore(storeName);
    if (!(await store.has(path))) throw new MissingExternalFile(`File not found in store "${store.name}": ${path}`);
    const size = await store.size(path);
    const limit = config.get('filepath_checksum_size_limit');
    let hash: string | null = null;
    if (limit === null || limit === undefined || size <= Number(limit)) {
      const md5 = createMd5();
      for await (const chunk of store.open(path)) md5.update(chunk as Uint8Array);
      hash = contentHashOfDigest(md5.digest());
    }
    return filepathMetadata({ path, store: storeName, size, hash });
  }
  async decode(stored: unknown, ctx: CodecContext): Promise<ObjectRef> {
    const m = parseMetadata<ObjectMetadata>(stored);
    return new ObjectRef(m, await getStore(storeOf(m, { ...ctx, storeName: filepathStore(ctx.storeName || null) })));
  }
}

export const filepathCodec = new FilepathCodec();

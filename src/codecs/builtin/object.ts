/**
 * `<object@>`: a file, a folder or bytes at a path-addressed location,
 * `_schema/{schema}/{table}/{k=v}/…/{field}_{token}{ext}`, as DataJoint Python's ObjectCodec
 * places it. Accepts a local file or folder path, a Buffer, `{ data, ext? }` (bytes or a
 * stream), or metadata already written (a staged insert's, an ObjectRef). The column keeps
 * `{path, store, size, ext, is_dir, item_count, timestamp}`; fetch returns a `dj.ObjectRef`,
 * which reads lazily. Every write gets a new token, so a rewrite never overwrites an object a
 * reader may still use.
 */
import { extname, basename } from 'node:path';
import { Readable } from 'node:stream';
import { DataJointError } from '../../errors.js';
import { ObjectRef } from '../../objects/object-ref.js';
import { localKind, putFolder } from '../../objects/upload.js';
import { manifestPath, objectPath } from '../../stores/layout.js';
import { checkPath } from '../../stores/store.js';
import { objectMetadata, parseMetadata, type ObjectMetadata } from '../../stores/metadata.js';
import { getStore, storeSpec } from '../../stores/registry.js';
import { builtinDtype } from '../builtin-dtypes.js';
import { Codec, type CodecContext } from '../codec.js';
import { storeOf } from './store-of.js';

/** `{ data, ext }`: bytes or a stream, stored under an extension of the caller's choice. */
export interface ObjectData {
  data: Uint8Array | Readable;
  ext?: string | null;
}

function isMetadata(v: unknown): v is ObjectMetadata {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { path?: unknown }).path === 'string' && !('data' in v);
}

function isObjectData(v: unknown): v is ObjectData {
  return typeof v === 'object' && v !== null && 'data' in v && ((v as ObjectData).data instanceof Uint8Array || (v as ObjectData).data instanceof Readable);
}

/** The path of a new object for this row and field (store settings applied). */
export function newObjectPath(ctx: CodecContext, storeName: string | null, ext: string | null): string {
  if (!ctx.schema || !ctx.table || !ctx.field) throw new DataJointError('<object@> needs the schema, table and attribute to place the object (insert through a table)');
  const spec = storeSpec(storeName);
  return objectPath({
    schema: ctx.schema,
    table: ctx.table,
    field: ctx.field,
    primaryKey: ctx.key ?? {},
    kinds: ctx.keyKinds,
    ext,
    partitionPattern: spec.partitionPattern,
    tokenLength: spec.tokenLength,
    schemaPrefix: spec.schemaPrefix,
  }).path;
}

/**
 * Metadata given instead of data (a staged insert's, another row's, an ObjectRef's) must name an object that
 * is there: a row pointing at a bad path or at nothing would fail every fetch of its table.
 * A folder is there when its manifest is (written last, so the folder is complete).
 */
async function checkedMetadata(m: ObjectMetadata, ctx: CodecContext): Promise<ObjectMetadata> {
  checkPath(m.path, 'object path');
  if (m.is_dir !== undefined && typeof m.is_dir !== 'boolean') throw new DataJointError(`<object@> metadata: is_dir must be a boolean, got ${JSON.stringify(m.is_dir)}`);
  const store = await getStore(storeOf(m, ctx));
  const there = await store.has(m.is_dir ? manifestPath(m.path) : m.path);
  if (!there) throw new DataJointError(`<object@> metadata names ${m.is_dir ? 'a folder' : 'an object'} that is not in store ${store.name}: ${m.path}`);
  return m;
}

class ObjectCodec extends Codec {
  readonly name = 'object';
  getDtype(isExternal: boolean): string {
    return builtinDtype('object', isExternal);
  }
  validate(value: unknown): void {
    if (value instanceof ObjectRef || isMetadata(value) || isObjectData(value) || value instanceof Uint8Array) return;
    if (typeof value === 'string' && value !== '') return;
    throw new DataJointError(
      `<object@> expects a local file or folder path, a Buffer, { data, ext } or object metadata, got ${value === null ? 'null' : typeof value === 'object' ? value.constructor?.name : typeof value}`,
    );
  }
  async encode(value: unknown, ctx: CodecContext): Promise<ObjectMetadata> {
    if (value instanceof ObjectRef) return checkedMetadata(value.metadata, ctx);
    if (isMetadata(value)) return checkedMetadata(parseMetadata<ObjectMetadata>(value), ctx); // staged insert, or copied from another row
    const storeName = ctx.storeName || null;
    const store = await getStore(storeName);
    let ext: string | null = null;
    let isDir = false;
    let size: number;
    let itemCount: number | null = null;
    let path: string;
    if (typeof value === 'string') {
      const kind = await localKind(value);
      if (!kind) throw new DataJointError(`Source path not found: ${value}`);
      isDir = kind === 'dir';
      ext = isDir ? null : extname(basename(value)) || null;
      path = newObjectPath(ctx, storeName, ext);
      ctx.written?.({ store: storeName, path, isDir });
      if (isDir) {
        const manifest = await putFolder(store, path, value);
        size = manifest.total_size;
        itemCount = manifest.item_count;
      } else {
        await store.putFile(path, value);
        size = await store.size(path);
      }
    } else {
      const { data, ext: e } = isObjectData(value) ? value : { data: value as Uint8Array, ext: null };
      ext = e ? (e.startsWith('.') ? e : `.${e}`) : null;
      path = newObjectPath(ctx, storeName, ext);
      ctx.written?.({ store: storeName, path, isDir: false });
      await store.put(path, data);
      size = data instanceof Uint8Array ? data.byteLength : await store.size(path);
    }
    return objectMetadata({ path, store: storeName, size, ext, isDir, itemCount });
  }
  async decode(stored: unknown, ctx: CodecContext): Promise<ObjectRef> {
    const m = parseMetadata<ObjectMetadata>(stored);
    return new ObjectRef(m, await getStore(storeOf(m, ctx)));
  }
}

export const objectCodec = new ObjectCodec();

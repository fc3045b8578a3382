/**
 * The JSON that DataJoint Python 2.x keeps in the database column of each store-backed codec,
 * with the same keys, key order and value formats, so rows written here read there and back:
 *
 *   <hash@> <blob@> <attach@>  {"hash", "path", "schema", "store", "size"}
 *   <object@>                  {"path", "store", "size", "ext", "is_dir", "item_count", "timestamp"}
 *   staged <object@>           {"path", "size", "hash", "ext", "is_dir", "timestamp"[, "item_count"|"mime_type"]}
 *   <filepath@>                {"path", "store", "size", "is_dir", "timestamp"[, "hash"]}
 *   <npy@>                     {"path", "store", "dtype", "shape"}
 *
 * `store` is the store name as written in the attribute (`<blob@cold>` → "cold"), or null for
 * the default store (`<blob@>`); readers resolve null to `stores.default`. Folder-valued objects
 * also get `{path}.manifest.json` beside them (see `folderManifest`).
 */
import { DataJointError } from '../errors.js';
import { pythonIsoformat, pythonJsonDumps, type JsonValue } from './python-text.js';

/** Metadata of a hash-addressed value (`put_hash` in DataJoint Python). */
export interface HashMetadata {
  /** Content hash (base32 MD5, 26 characters). */
  hash: string;
  /** Path in the store, used as is when reading (never recomputed from the hash). */
  path: string;
  schema: string;
  store: string | null;
  size: number;
}

/** Metadata of a schema-addressed file or folder (`<object@>`; also what ObjectRef reads). */
export interface ObjectMetadata {
  path: string;
  store?: string | null;
  /** Bytes (sum over files for a folder); may be null when not computed (large Zarr stores). */
  size?: number | null;
  /** Content hash when recorded (base32 MD5); staged inserts write null. */
  hash?: string | null;
  ext?: string | null;
  is_dir?: boolean;
  item_count?: number | null;
  /** ISO 8601 upload time, e.g. `2025-01-15T10:30:00.123000+00:00`. */
  timestamp?: string | null;
  mime_type?: string | null;
  url?: string | null;
}

/** Metadata of a `<filepath@>` reference. */
export interface FilepathMetadata {
  path: string;
  store: string | null;
  size: number | null;
  is_dir: false;
  timestamp: string;
  /** Content hash (base32 MD5) when it was computed (files up to `filepath_checksum_size_limit`); ours, Python omits it. */
  hash?: string;
}

/** Metadata of an `<npy@>` array. */
export interface NpyMetadata {
  path: string;
  store: string | null;
  /** NumPy dtype name, e.g. `float64`. */
  dtype: string;
  shape: number[];
}

/** The manifest beside a folder-valued object (`{path}.manifest.json`). */
export interface FolderManifest {
  files: Array<{ path: string; size: number }>;
  total_size: number;
  item_count: number;
  created: string;
}

export function hashMetadata(m: HashMetadata): HashMetadata {
  return { hash: m.hash, path: m.path, schema: m.schema, store: m.store, size: m.size };
}

/** `<object@>` metadata as the codec writes it on insert (`timestamp` defaults to now). */
export function objectMetadata(m: {
  path: string;
  store: string | null;
  size: number | null;
  ext: string | null;
  isDir: boolean;
  itemCount: number | null;
  timestamp?: Date;
}): ObjectMetadata {
  return {
    path: m.path,
    store: m.store,
    size: m.size,
    ext: m.ext,
    is_dir: m.isDir,
    item_count: m.itemCount,
    timestamp: pythonIsoformat(m.timestamp ?? new Date()),
  };
}

/** `<object@>` metadata as a staged insert writes it (no store key; `hash` null; `mime_type` for files with a known type). */
export function stagedObjectMetadata(m: {
  path: string;
  size: number;
  ext: string | null;
  isDir: boolean;
  itemCount?: number;
  mimeType?: string | null;
  timestamp?: Date;
}): ObjectMetadata {
  const out: ObjectMetadata = { path: m.path, size: m.size, hash: null, ext: m.ext, is_dir: m.isDir, timestamp: pythonIsoformat(m.timestamp ?? new Date()) };
  if (m.isDir) out.item_count = m.itemCount ?? 0;
  else if (m.mimeType) out.mime_type = m.mimeType;
  return out;
}

export function filepathMetadata(m: { path: string; store: string | null; size: number | null; hash?: string | null; timestamp?: Date }): FilepathMetadata {
  const out: FilepathMetadata = { path: m.path, store: m.store, size: m.size, is_dir: false, timestamp: pythonIsoformat(m.timestamp ?? new Date()) };
  if (m.hash) out.hash = m.hash;
  return out;
}

export function npyMetadata(m: NpyMetadata): NpyMetadata {
  return { path: m.path, store: m.store, dtype: m.dtype, shape: [...m.shape] };
}

/** The manifest of a folder's files (paths relative to the folder, sorted for a stable text). */
export function folderManifest(files: Array<{ path: string; size: number }>, created = new Date()): FolderManifest {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    files: sorted.map((f) => ({ path: f.path, size: f.size })),
    total_size: sorted.reduce((a, f) => a + f.size, 0),
    item_count: sorted.length,
    created: pythonIsoformat(created),
  };
}

/** The manifest's file text, as Python writes it (`json.dumps(manifest, indent=2)`). */
export function manifestText(manifest: FolderManifest): string {
  return pythonJsonDumps(manifest as unknown as JsonValue, 2);
}

/** Column text of a metadata object as DataJoint Python inserts it (`json.dumps(metadata)`). */
export function metadataJson(metadata: object): string {
  return pythonJsonDumps(metadata as JsonValue);
}

/**
 * Metadata read back from the column: MySQL returns JSON text, PostgreSQL's JSONB an object.
 * Checks that it names a `path`.
 */
export function parseMetadata<T extends { path: string } = ObjectMetadata>(stored: unknown): T {
  let v: unknown = stored;
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    try {
      v = JSON.parse(v.toString());
    } catch (err) {
      throw new DataJointError(`Store metadata is not valid JSON: ${String(v).slice(0, 80)}`, { cause: err });
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof (v as { path?: unknown }).path !== 'string') {
    throw new DataJointError(`Store metadata must be a JSON object with a "path", got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return v as T;
}

/**
 * Staged inserts (`T.stagedInsert1(async (staged) => …)`): write large objects straight to
 * their final place in the store (a Zarr array through zarrita, a file through a stream), then
 * insert the row that points at them, as DataJoint Python's `staged_insert1` does.
 *
 *   await Recording.stagedInsert1(async (staged) => {
 *     Object.assign(staged.rec, { subject_id: 1, session_id: 2 });
 *     const arr = await zarr.create(staged.store('frames', '.zarr'), { shape, chunkShape, dtype: 'uint16' });
 *     await zarr.set(arr, null, frames);
 *   });
 *
 * On success the metadata of each object is computed (size, file count, the manifest beside a
 * folder) and the row inserted in one transaction. On any failure, in the callback, while
 * finishing or in the insert, every object written is removed and no row exists: a row never
 * points at a partial object. Paths are schema-addressed with the table's class name, as in
 * DataJoint Python: `_schema/{schema}/{Class}/{k=v}/…/{field}_{token}{ext}`.
 *
 * Measured (bench/zarr.bench.ts, a 1 GiB array in 16 MiB chunks on a file store): 0.9–1.1×
 * the time of zarrita writing the same array to the same store directly, peak RSS ~230 MB.
 */
import { PassThrough, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DataJointError, MissingExternalFile } from '../errors.js';
import { keyValueForCodecs } from '../fetch/convert.js';
import type { Heading } from '../heading/heading.js';
import type { ValueKind } from '../heading/kinds.js';
import { objectPath } from '../stores/layout.js';
import { stagedObjectMetadata, type ObjectMetadata } from '../stores/metadata.js';
import { getStore, storeSpec } from '../stores/registry.js';
import { checkPath, joinPath, type ObjectStore } from '../stores/store.js';
import { mimeType } from './mime.js';
import { removeObject, writeManifestOf } from './upload.js';
import { registerZarrCodecs } from './zarr-codecs.js';

/** A writable zarrita store (`get`, `getRange`, `set`, `delete`) over a folder in an object store. */
export interface StagedZarrStore {
  get(key: `/${string}`): Promise<Uint8Array | undefined>;
  getRange(key: `/${string}`, range: { offset: number; length: number } | { suffixLength: number }): Promise<Uint8Array | undefined>;
  set(key: `/${string}`, value: Uint8Array): Promise<void>;
  delete(key: `/${string}`): Promise<boolean>;
}

/** What a staged insert needs from its table. */
export interface StagedTarget {
  readonly database: string;
  /** Table class name (DataJoint Python's `class_name`), used in object paths. */
  readonly className: string;
  readonly connection: { transaction<T>(fn: () => Promise<T>): Promise<T>; onRollback(undo: () => Promise<void>): void };
  tableHeading(): Promise<Heading>;
  insert1(row: Record<string, unknown>): Promise<number>;
}

interface Staged {
  field: string;
  /** The primary key the object's path was made from (staged.rec's, when store/open was called). */
  key: Record<string, unknown>;
  kind: 'folder' | 'file';
  path: string;
  ext: string | null;
  storeName: string | null;
  store: Promise<ObjectStore>;
  /** For files: the upload in progress. */
  upload?: Promise<void>;
  stream?: Writable;
}

const asView = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export class StagedInsert {
  /** The row being built: set its primary key before calling `store()` or `open()`. */
  readonly rec: Record<string, unknown> = {};
  readonly #target: StagedTarget;
  readonly #heading: Heading;
  readonly #staged = new Map<string, Staged>();
  #closed = false;

  /** @internal Created by `stagedInsert1`. */
  constructor(target: StagedTarget, heading: Heading) {
    this.#target = target;
    this.#heading = heading;
  }

  /**
   * A zarrita-compatible writable store for the `<object@>` attribute `field`, at a new path
   * ending in `ext` (e.g. `.zarr`): `zarr.create(staged.store('frames', '.zarr'), …)`.
   */
  store(field: string, ext = ''): StagedZarrStore {
    const s = this.#stage(field, ext, 'folder');
    const keyPath = (key: string) => joinPath(s.path, checkPath(key.replace(/^\/+/, ''), 'zarr key'));
    const orUndefined = async (read: (store: ObjectStore) => Promise<Buffer>) => {
      try {
        return asView(await read(await s.store));
      } catch (err) {
        if (err instanceof MissingExternalFile) return undefined;
        throw err;
      }
    };
    return {
      get: (key) => orUndefined((store) => store.get(keyPath(key))),
      getRange: (key, range) =>
        orUndefined(async (store) => {
          const p = keyPath(key);
          if ('suffixLength' in range) {
            const size = await store.size(p);
            return store.getRange(p, Math.max(0, size - range.suffixLength), Math.min(size, range.suffixLength));
          }
          return store.getRange(p, range.offset, range.length);
        }),
      set: async (key, value) => {
        this.#checkOpen();
        await (await s.store).put(keyPath(key), value);
      },
      delete: async (key) => {
        await (await s.store).delete(keyPath(key));
        return true;
      },
    };
  }

  /** A writable stream into a new file for the `<object@>` attribute `field` (`ext` e.g. `.dat`). End it before returning. */
  open(field: string, ext = ''): Writable {
    const s = this.#stage(field, ext, 'file');
    if (s.stream) throw new DataJointError(`Staged field "${field}" is already open`);
    const pipe = new PassThrough();
    // The user's stream failing (a pipeline whose source throws, destroy(err)) destroys this
    // pipe with the error: the upload reads it as its own failure, and stagedInsert1 rejects
    // and removes the object. Without a listener the error would be unhandled and end the process.
    pipe.on('error', () => undefined);
    let failure: Error | null = null;
    s.upload = s.store.then((store) => store.put(s.path, pipe));
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (failure) return cb(failure);
        if (pipe.write(chunk)) cb();
        else pipe.once('drain', () => cb(failure));
      },
      final(cb) {
        pipe.end();
        s.upload!.then(() => cb(), (err: Error) => cb(err));
      },
      destroy(err, cb) {
        pipe.destroy(err ?? undefined);
        cb(err);
      },
    });
    // An upload that fails (store unreachable, …) fails the stream instead of stalling it.
    s.upload.catch((err: Error) => {
      failure = err;
      pipe.emit('drain');
      stream.destroy(err);
    });
    s.stream = stream;
    return stream;
  }

  #checkOpen(): void {
    if (this.#closed) throw new DataJointError('This staged insert has finished; its stores and streams can no longer be written');
  }

  #stage(field: string, ext: string, kind: Staged['kind']): Staged {
    this.#checkOpen();
    const existing = this.#staged.get(field);
    if (existing) {
      if (existing.kind !== kind) throw new DataJointError(`Staged field "${field}" is already used as a ${existing.kind}`);
      return existing;
    }
    const a = this.#heading.get(field);
    if (!a) throw new DataJointError(`Attribute "${field}" is not in the table (${this.#heading.names.join(', ')})`);
    if (a.codec !== 'object') throw new DataJointError(`Attribute "${field}" is ${a.type}, not an <object@> attribute: staged inserts write objects only`);
    const pk = this.#heading.primaryKey;
    const missing = pk.filter((k) => this.rec[k] === undefined || this.rec[k] === null);
    if (missing.length) throw new DataJointError(`Set the primary key in staged.rec before calling store() or open(); missing: ${missing.join(', ')}`);
    const storeName = a.store || null;
    const spec = storeSpec(storeName);
    const kinds: Record<string, ValueKind> = {};
    for (const k of pk) if (this.#heading.get(k)!.kind !== 'bool') kinds[k] = this.#heading.get(k)!.kind;
    const normalized = ext ? (ext.startsWith('.') ? ext : `.${ext}`) : null;
    const { path } = objectPath({
      schema: this.#target.database,
      table: this.#target.className,
      field,
      primaryKey: Object.fromEntries(pk.map((k) => [k, keyValueForCodecs(this.#heading.get(k)!, this.rec[k])])),
      kinds,
      ext: normalized,
      partitionPattern: spec.partitionPattern,
      tokenLength: spec.tokenLength,
      schemaPrefix: spec.schemaPrefix,
    });
    const store = getStore(storeName);
    store.catch(() => undefined); // reported when used
    const staged: Staged = { field, kind, path, ext: normalized, storeName, store, key: Object.fromEntries(pk.map((k) => [k, this.rec[k]])) };
    this.#staged.set(field, staged);
    return staged;
  }

  /** @internal Metadata of every staged object; streams must have ended. */
  async finish(): Promise<void> {
    this.#closed = true;
    for (const s of this.#staged.values()) {
      // The object's path holds the key it was opened under: a row with another key would
      // point at an object filed under a key that is not its own.
      const changed = Object.keys(s.key).filter((k) => !sameKeyValue(s.key[k], this.rec[k]));
      if (changed.length)
        throw new DataJointError(`staged.rec's primary key changed (${changed.map((k) => `${k}: ${String(s.key[k])} → ${String(this.rec[k])}`).join(', ')}) after staged field "${s.field}" was opened under it: set the whole primary key before calling store() or open()`);
      const store = await s.store;
      let m: ObjectMetadata;
      if (s.kind === 'file') {
        if (!s.stream!.writableFinished) {
          if (!s.stream!.writableEnded) throw new DataJointError(`The stream of staged field "${s.field}" was not ended: call end() and wait for 'finish' before returning`);
          await finished(s.stream!);
        }
        await s.upload;
        m = stagedObjectMetadata({ path: s.path, size: await store.size(s.path), ext: s.ext, isDir: false, mimeType: mimeType(s.ext) });
      } else {
        const manifest = await writeManifestOf(store, s.path);
        if (!manifest.item_count) throw new DataJointError(`Nothing was written to staged field "${s.field}"`);
        m = stagedObjectMetadata({ path: s.path, size: manifest.total_size, ext: s.ext, isDir: true, itemCount: manifest.item_count });
      }
      // DataJoint Python's staged metadata names no store (it reads the default one); a named
      // store must be recorded or the object could not be found again.
      if (s.storeName) m.store = s.storeName;
      this.rec[s.field] = m;
    }
  }

  /** @internal Remove everything written (after a failure). */
  async discard(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      [...this.#staged.values()].map(async (s) => {
        s.stream?.destroy();
        await s.upload?.catch(() => undefined);
        const store = await s.store.catch(() => null);
        if (store) await removeObject(store, s.path, s.kind === 'folder');
      }),
    );
  }
}

/** Key values as the path saw them: equal numbers, strings, dates (by time), bigints. */
function sameKeyValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b || (a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0);
}

/**
 * Run `fn` with a fresh StagedInsert, then insert its row (see the module comment). Returns
 * what `fn` returns.
 */
export async function stagedInsert1<R>(target: StagedTarget, fn: (staged: StagedInsert) => Promise<R> | R): Promise<R> {
  if (typeof fn !== 'function') throw new DataJointError('stagedInsert1 expects a function: T.stagedInsert1(async (staged) => { … })');
  const heading = await target.tableHeading();
  if (heading.all.some((a) => a.codec === 'object')) await registerZarrCodecs();
  const staged = new StagedInsert(target, heading);
  try {
    const result = await fn(staged);
    await staged.finish();
    await target.connection.transaction(() => target.insert1(staged.rec));
    // Inside a caller's transaction (a make's), its objects go if that is rolled back.
    target.connection.onRollback(() => staged.discard());
    return result;
  } catch (err) {
    await staged.discard();
    throw err;
  }
}

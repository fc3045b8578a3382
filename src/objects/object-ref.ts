/**
 * `ObjectRef`: what an `<object@>` (or `<filepath@>`) attribute fetches. A handle on a file or
 * folder in a store, built from the row's JSON metadata: its fields need no I/O, and reading
 * goes straight to the store, streaming or by byte range, so a multi-gigabyte object (or a Zarr
 * array, through `zarr()`) is never loaded whole unless asked for.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inspect } from 'node:util';
import type * as Zarr from 'zarrita';
import { DataJointError, IntegrityError, MissingExternalFile } from '../errors.js';
import { createMd5 } from '../hash.js';
import { contentHashOfDigest, manifestPath } from '../stores/layout.js';
import { parseMetadata, type FolderManifest, type ObjectMetadata } from '../stores/metadata.js';
import { parallelMap } from '../stores/parallel.js';
import { getStore } from '../stores/registry.js';
import { checkPath, joinPath, type ObjectStore } from '../stores/store.js';
import { registerZarrCodecs } from './zarr-codecs.js';

/** A read-only zarrita store over an object's folder (keys like `/zarr.json`, `/c/0/0`). */
export interface ZarrReadStore {
  get(key: `/${string}`): Promise<Uint8Array | undefined>;
  getRange(key: `/${string}`, range: { offset: number; length: number } | { suffixLength: number }): Promise<Uint8Array | undefined>;
}

export class ObjectRef {
  /** Path of the object in its store (from the metadata; never recomputed). */
  readonly path: string;
  /** Name of the store holding the object. */
  readonly store: string;
  /** Bytes (sum over files for a folder), or null when not recorded. */
  readonly size: number | null;
  /** Whether the object is a folder (e.g. a Zarr store) rather than one file. */
  readonly isDir: boolean;
  /** Extension hint such as `.zarr` or `.dat`, or null. */
  readonly ext: string | null;
  /** Content hash (base32 MD5) when recorded. */
  readonly hash: string | null;
  /** Number of files of a folder, when recorded. */
  readonly itemCount: number | null;
  /** Upload time, when recorded. */
  readonly timestamp: Date | null;
  readonly mimeType: string | null;
  /** The metadata as stored in the row. */
  readonly metadata: ObjectMetadata;
  readonly #store: ObjectStore;

  constructor(metadata: ObjectMetadata, store: ObjectStore) {
    const m = parseMetadata<ObjectMetadata>(metadata);
    checkPath(m.path);
    this.metadata = m;
    this.path = m.path;
    this.store = store.name;
    this.size = typeof m.size === 'number' ? m.size : null;
    this.isDir = m.is_dir === true;
    this.ext = m.ext ?? null;
    this.hash = m.hash ?? null;
    this.itemCount = typeof m.item_count === 'number' ? m.item_count : null;
    const t = m.timestamp ? new Date(m.timestamp) : null;
    this.timestamp = t && !Number.isNaN(t.getTime()) ? t : null;
    this.mimeType = m.mime_type ?? null;
    this.#store = store;
  }

  /** An ObjectRef from column metadata (JSON text or object) and the store it names. */
  static fromJson(stored: unknown, store: ObjectStore): ObjectRef {
    return new ObjectRef(parseMetadata<ObjectMetadata>(stored), store);
  }

  /** An ObjectRef from column metadata, opening the store it names (`store: null` = the default store). */
  static async load(stored: unknown): Promise<ObjectRef> {
    const m = parseMetadata<ObjectMetadata>(stored);
    return new ObjectRef(m, await getStore(m.store ?? null));
  }

  /** The store path of `subpath` inside a folder object (or the object itself). */
  #at(subpath?: string): string {
    if (!subpath) return this.path;
    if (!this.isDir) throw new DataJointError(`Cannot use a subpath on a file object (${this.path})`);
    return joinPath(this.path, checkPath(subpath.replace(/^\/+/, ''), 'subpath'));
  }

  /** The whole content of a file object. */
  async read(): Promise<Buffer> {
    if (this.isDir) throw new DataJointError(`Cannot read() a folder (${this.path}); use listdir(), open(subpath) or zarr()`);
    return this.#store.get(this.path);
  }

  /** A stream of a file object, or of the file `subpath` inside a folder object. */
  open(subpath?: string): Readable {
    if (this.isDir && !subpath) throw new DataJointError(`Cannot open() a folder (${this.path}); name a file inside it`);
    return this.#store.open(this.#at(subpath));
  }

  /** Names of the files and sub-folders directly inside the folder (or its sub-folder `subpath`), sorted. */
  async listdir(subpath?: string): Promise<string[]> {
    if (!this.isDir) throw new DataJointError(`Cannot listdir() a file (${this.path}); use read() or open()`);
    const prefix = this.#at(subpath);
    const names = new Set<string>();
    for await (const e of this.#store.list(prefix)) names.add(e.path.slice(prefix.length + 1).split('/')[0]!);
    if (!names.size && !(await this.#isEmptyFolder(subpath))) throw new MissingExternalFile(`Folder "${prefix}" not found in store "${this.store}"`);
    return [...names].sort();
  }

  /** Whether the object (or `subpath` inside a folder object, file or sub-folder) exists. */
  async exists(subpath?: string): Promise<boolean> {
    const p = this.#at(subpath);
    if (!this.isDir || subpath) {
      if (await this.#store.has(p)) return true;
      if (!this.isDir) return false;
    }
    for await (const _ of this.#store.list(p)) return true;
    return this.#isEmptyFolder(subpath);
  }

  /** An empty folder object has nothing under its path, only its manifest (as DataJoint Python stores it). */
  async #isEmptyFolder(subpath?: string): Promise<boolean> {
    return this.isDir && !subpath && (await this.#store.has(manifestPath(this.path)));
  }

  /**
   * Copy the object into the local directory `dir`: a file to `dir/<name>`, a folder to
   * `dir/<name>/…` (or only `subpath` of it). Files appear complete or not at all. Returns the
   * local path.
   */
  async download(dir: string, subpath?: string): Promise<string> {
    const remote = this.#at(subpath);
    const local = join(dir, basename(remote));
    if (!this.isDir || (subpath && (await this.#store.has(remote)))) {
      await this.#fetchFile(remote, local);
      return local;
    }
    const entries: string[] = [];
    for await (const e of this.#store.list(remote)) entries.push(e.path);
    if (!entries.length && !(await this.#isEmptyFolder(subpath))) throw new MissingExternalFile(`Folder "${remote}" not found in store "${this.store}"`);
    await mkdir(local, { recursive: true });
    await parallelMap(entries, this.#store.concurrency, (p) => this.#fetchFile(p, join(local, ...p.slice(remote.length + 1).split('/'))));
    return local;
  }

  async #fetchFile(remote: string, local: string): Promise<void> {
    await mkdir(dirname(local), { recursive: true });
    const tmp = `${local}.${randomBytes(6).toString('hex')}.part`;
    try {
      await pipeline(this.#store.open(remote), createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, local);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Check the stored object against its metadata, as DataJoint Python's `ObjectRef.verify`:
   * a file's size (and content hash when recorded); a folder's files against its manifest.
   * Returns true, or throws IntegrityError (MissingExternalFile when the object is gone).
   */
  async verify(): Promise<true> {
    return this.isDir ? this.#verifyFolder() : this.#verifyFile();
  }

  async #verifyFile(): Promise<true> {
    const actual = await this.#store.size(this.path);
    if (this.size !== null && actual !== this.size) {
      throw new IntegrityError(`Size mismatch for ${this.path}: expected ${this.size}, got ${actual}`);
    }
    if (this.hash) {
      const h = createMd5();
      for await (const chunk of this.#store.open(this.path)) h.update(chunk as Uint8Array);
      const got = contentHashOfDigest(h.digest());
      if (got !== this.hash) throw new IntegrityError(`Hash mismatch for ${this.path}: expected ${this.hash}, got ${got}`);
    }
    return true;
  }

  async #verifyFolder(): Promise<true> {
    let manifest: FolderManifest;
    try {
      manifest = JSON.parse((await this.#store.get(manifestPath(this.path))).toString('utf8')) as FolderManifest;
    } catch (err) {
      if (err instanceof MissingExternalFile) throw new IntegrityError(`Manifest missing: ${manifestPath(this.path)}`, { cause: err });
      throw err instanceof DataJointError ? err : new IntegrityError(`Manifest of ${this.path} is not valid JSON`, { cause: err });
    }
    const problems = await parallelMap(manifest.files ?? [], this.#store.concurrency, async (f) => {
      try {
        const size = await this.#store.size(joinPath(this.path, f.path));
        return size === f.size ? null : `size mismatch for ${f.path}: expected ${f.size}, got ${size}`;
      } catch (err) {
        if (err instanceof MissingExternalFile) return `missing file: ${f.path}`;
        throw err;
      }
    });
    const errors = problems.filter((p): p is string => p !== null);
    if (errors.length) throw new IntegrityError(`Folder ${this.path} failed verification:\n${errors.join('\n')}`);
    return true;
  }

  /** A read-only zarrita store over the folder: only the keys zarrita reads are fetched. */
  zarrStore(): ZarrReadStore {
    const store = this.#store;
    const keyPath = (key: string) => joinPath(this.path, checkPath(key.replace(/^\/+/, ''), 'zarr key'));
    const orUndefined = async (read: () => Promise<Buffer>): Promise<Uint8Array | undefined> => {
      try {
        const b = await read();
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (err) {
        if (err instanceof MissingExternalFile) return undefined;
        throw err;
      }
    };
    return {
      get: (key) => orUndefined(() => store.get(keyPath(key))),
      getRange: (key, range) =>
        orUndefined(async () => {
          const p = keyPath(key);
          if ('suffixLength' in range) {
            const size = await store.size(p);
            return store.getRange(p, Math.max(0, size - range.suffixLength), Math.min(size, range.suffixLength));
          }
          return store.getRange(p, range.offset, range.length);
        }),
    };
  }

  /**
   * The Zarr array or group in this folder, opened with zarrita (chunks are fetched when read).
   * An object that holds no Zarr metadata (or not of `kind`) throws a DataJointError naming it.
   */
  async zarr(options: { kind?: 'array' | 'group' } = {}): Promise<Zarr.Array<Zarr.DataType, ZarrReadStore> | Zarr.Group<ZarrReadStore>> {
    const [zarr] = await Promise.all([import('zarrita'), registerZarrCodecs()]);
    try {
      return await zarr.open(this.zarrStore(), options as { kind?: undefined });
    } catch (err) {
      if (err instanceof DataJointError) throw err; // the store's own (a missing object, an unreachable bucket)
      const what = options.kind ? `a Zarr ${options.kind}` : 'a Zarr array or group';
      throw new DataJointError(`The object ${this.store}:${this.path} is not ${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  toJSON(): ObjectMetadata {
    return this.metadata;
  }

  toString(): string {
    return this.path;
  }

  [inspect.custom](): string {
    return `ObjectRef(${this.isDir ? 'folder' : 'file'}: ${this.store}:${this.path}, size=${this.size ?? 'unknown'})`;
  }
}

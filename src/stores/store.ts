/**
 * The interface every object store implements (a file tree, an S3 bucket, …), kept as small as
 * zarrita's stores so a new protocol is one short module. Paths are POSIX, relative to the
 * store's location; the store adds its own root (a directory, or a bucket plus key prefix).
 *
 * Errors are uniform across protocols: a missing object is `MissingExternalFile`; a store that
 * cannot be reached or used at all (missing directory or bucket, refused credentials, network)
 * is `BucketInaccessible`; bad arguments are `DataJointError`.
 */
import type { Readable } from 'node:stream';
import { DataJointError } from '../errors.js';

/** One object found by `list`: its path relative to the store's location and its size in bytes. */
export interface StoreEntry {
  path: string;
  size: number;
}

/** What `put` accepts: bytes, or a stream of bytes (consumed once, never held whole in memory). */
export type PutData = Buffer | Uint8Array | Readable;

export interface ObjectStore {
  /** The store's name in the `stores` configuration (e.g. `'main'`). */
  readonly name: string;
  /** `'file'`, `'s3'`, … */
  readonly protocol: string;
  /** How many transfers callers should keep in flight against this store (`stores.<name>.concurrency`). */
  readonly concurrency: number;

  /** The whole object. */
  get(path: string): Promise<Buffer>;
  /** `length` bytes from `offset` (fewer at the end of the object, none past it). */
  getRange(path: string, offset: number, length: number): Promise<Buffer>;
  /** Publish an object atomically: readers see the old object, no object, or all of the new one. */
  put(path: string, data: PutData): Promise<void>;
  /** Publish a local file (streamed, never read whole into memory). */
  putFile(path: string, localPath: string): Promise<void>;
  /** A stream of the object's bytes; a missing object surfaces as the stream's error. */
  open(path: string): Readable;
  /** Whether an object exists at exactly this path. */
  has(path: string): Promise<boolean>;
  /** Size of an object in bytes. */
  size(path: string): Promise<number>;
  /** Remove an object; removing a missing object is not an error. */
  delete(path: string): Promise<void>;
  /** Remove every object under the folder `prefix` (`a/b` removes `a/b/…`, not `a/bc`); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Every object under the folder `prefix` (`''` for the whole store), at any depth, in no set order. */
  list(prefix: string): AsyncIterable<StoreEntry>;
  /**
   * Partial writes under `prefix` that no writer has touched for `idleMs` (a file store's
   * temporary files of a process that died mid-write), for dj.gc to remove. Stores whose
   * partial writes are never visible (S3's multipart uploads) leave it out.
   */
  listAbandoned?(prefix: string, idleMs: number): AsyncIterable<StoreEntry>;
  /** Release connections; the store must not be used afterwards. */
  close(): Promise<void>;
}

/**
 * Check a store path and return it normalized: POSIX, relative, no `.`/`..`/empty segments.
 * Such segments could escape a file store's root or name two keys for one object on S3.
 */
export function checkPath(path: string, what = 'path'): string {
  if (typeof path !== 'string') throw new DataJointError(`Store ${what} must be a string, got ${typeof path}`);
  const segments = path.split('/');
  const bad = path === '' || path.startsWith('/') || path.includes('\0') || path.includes('\\') ||
    segments.some((s) => s === '' || s === '.' || s === '..');
  if (bad) throw new DataJointError(`Invalid store ${what} "${path}": expected a relative POSIX path without empty, "." or ".." segments`);
  return path;
}

/** Check a folder prefix for `list`/`deletePrefix`; `''` means the whole store. Trailing `/` is dropped. */
export function checkPrefix(prefix: string): string {
  if (prefix === '' || prefix === '/') return '';
  return checkPath(prefix.replace(/\/+$/, ''), 'prefix');
}

/** Check the arguments of `getRange`. */
export function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new DataJointError(`Invalid byte range: offset ${offset}, length ${length} (both must be integers ≥ 0)`);
  }
}

/** Join store path segments with `/`, skipping empty ones. */
export function joinPath(...parts: Array<string | undefined | null>): string {
  return parts.filter((p): p is string => !!p).join('/');
}

/**
 * Where objects live inside a store, exactly as DataJoint Python 2.x lays them out, so that
 * either implementation finds the other's objects (docs/store-layout.md has the derivation):
 *
 *   hash-addressed   {hash_prefix}/{schema}/[{fold1}/{fold2}/…]{hash}           (<hash@> <blob@> <attach@>)
 *   schema-addressed {schema_prefix}/[{partition}/]{schema}/{table}/{k=v}/…/{field}_{token}{ext}
 *                                                                              (<object@> <npy@>)
 *
 * `hash` is the MD5 of the content in lowercase base32 without padding (26 characters);
 * `token` is random, from a URL-safe alphabet. Readers never recompute a path: the path is kept
 * in the row's JSON metadata, so a change of settings (subfolding, prefixes) never strands
 * existing objects.
 */
import { randomBytes } from 'node:crypto';
import { DataJointError } from '../errors.js';
import { md5 } from '../hash.js';
import type { ValueKind } from '../heading/kinds.js';
import { pythonFloatRepr, pythonQuote } from './python-text.js';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lowercase, without padding (DataJoint Python: `b32encode(d).rstrip('=').lower()`). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31];
  return out;
}

/** Content hash of hash-addressed storage: base32 of the MD5 digest, 26 lowercase characters. */
export function contentHash(data: Uint8Array | string): string {
  return base32(md5(data));
}

/** Content hash from an MD5 digest computed elsewhere (e.g. while streaming a file). */
export function contentHashOfDigest(digest: Uint8Array): string {
  if (digest.length !== 16) throw new DataJointError(`An MD5 digest has 16 bytes, got ${digest.length}`);
  return base32(digest);
}

const HASH_RE = /^[a-z2-7]{26}$/;

/** Whether `s` has the form of a content hash. */
export function isContentHash(s: string): boolean {
  return HASH_RE.test(s);
}

/** Split `name` into folder names of the given lengths: `subfold('abcdefgh', [2, 3])` → `['ab', 'cde']`. */
export function subfold(name: string, folds: readonly number[]): string[] {
  const out: string[] = [];
  let at = 0;
  for (const n of folds) {
    out.push(name.slice(at, at + n));
    at += n;
  }
  return out;
}

/** Options of hash-addressed paths (from the store's settings). */
export interface HashPathOptions {
  /** Folder levels, e.g. `[2, 2]` (null or empty: flat). */
  subfolding?: readonly number[] | null;
  /** Section of the store (default `_hash`). */
  hashPrefix?: string;
}

/** Path of a hash-addressed object: `_hash/{schema}/{hash}`, or `_hash/{schema}/ab/cd/{hash}` with subfolding [2, 2]. */
export function hashPath(hash: string, schema: string, options: HashPathOptions = {}): string {
  if (!isContentHash(hash)) throw new DataJointError(`Invalid content hash (expected 26 lowercase base32 characters): ${hash}`);
  checkName(schema, 'schema');
  const folds = options.subfolding?.length ? subfold(hash, options.subfolding) : [];
  return [trimSlashes(options.hashPrefix ?? '_hash'), schema, ...folds, hash].join('/');
}

/** URL-safe alphabet of object tokens (DataJoint Python's `TOKEN_ALPHABET`, 64 characters). */
export const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A random token of `length` characters (clamped to 4–16, as DataJoint Python does). */
export function generateToken(length = 8): string {
  const n = Math.max(4, Math.min(16, Math.trunc(length)));
  // 64 symbols divide 256, so masking the bytes keeps every symbol equally likely.
  return Array.from(randomBytes(n), (b) => TOKEN_ALPHABET[b & 63]).join('');
}

const UNSAFE = /[/\\:*?"<>|]/;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * A primary-key value as it appears in a schema-addressed path (`subject_id=42`), as DataJoint
 * Python's `encode_pk_value` writes it: numbers as Python prints them, datetimes as
 * `YYYY-MM-DDTHH-MM-SS`, dates as `YYYY-MM-DD`, strings as they are unless they hold one of
 * `/\:*?"<>|` or exceed 100 characters (then cut to 50 + `_` + 8 hex of their MD5, if long, and
 * percent-encoded). `kind` (the attribute's value kind) tells a `date` from a `datetime` and a
 * float from an integer; without it a Date is a datetime and an integral number an integer.
 */
export function encodePkValue(value: unknown, kind?: ValueKind): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return kind === 'bool' ? (value ? '1' : '0') : value ? 'True' : 'False';
  if (typeof value === 'number') {
    // A Python int prints plainly, a float by repr (5.0 → "5.0"); JS numbers need the kind to tell.
    if (kind === 'float' || !Number.isInteger(value)) return pythonFloatRepr(value);
    return String(value);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new DataJointError('Cannot encode an invalid Date in an object path');
    const date = `${pad(value.getUTCFullYear(), 4)}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())}`;
    if (kind === 'date') return date;
    return `${date}T${pad(value.getUTCHours())}-${pad(value.getUTCMinutes())}-${pad(value.getUTCSeconds())}`;
  }
  if (value === null || value === undefined) throw new DataJointError('A primary-key value in an object path cannot be null');
  let s = String(value);
  const chars = Array.from(s); // Python counts code points, not UTF-16 units
  if (UNSAFE.test(s) || chars.length > 100) {
    if (chars.length > 100) s = `${chars.slice(0, 50).join('')}_${md5(s, 'hex').slice(0, 8)}`;
    return pythonQuote(s);
  }
  return s;
}

/** What a schema-addressed path is built from. */
export interface ObjectPathInput {
  /** Database schema name. */
  schema: string;
  /** Table class name as DataJoint Python names it (e.g. `Recording`). */
  table: string;
  /** Attribute name. */
  field: string;
  /** Primary-key values in the table's key order. */
  primaryKey: Record<string, unknown>;
  /** Value kind of each key attribute (tells dates from datetimes, floats from integers). */
  kinds?: Record<string, ValueKind>;
  /** File extension, with or without the leading dot (`.zarr`, `npy`); none for a bare name. */
  ext?: string | null;
  /** Key attributes that lead the path, e.g. `'{subject_id}/{session_date}'` or `'subject_id/session_date'`. */
  partitionPattern?: string | null;
  /** Token length (default 8). */
  tokenLength?: number;
  /** Section of the store (default `_schema`). */
  schemaPrefix?: string;
  /** Use this token instead of a random one (tests, and re-deriving a known path). */
  token?: string;
}

/** The attribute names of a partition pattern, in the pattern's order. */
export function partitionAttributes(pattern: string | null | undefined): string[] {
  if (!pattern) return [];
  const braced = [...pattern.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const names = braced.length ? braced : pattern.split('/').map((p) => p.trim()).filter(Boolean);
  return [...new Set(names)];
}

/**
 * Path (and token) of a schema-addressed object:
 * `_schema/{schema}/{table}/{k1=v1}/{k2=v2}/{field}_{token}{ext}`; attributes named by the
 * partition pattern move before the schema: `_schema/subject_id=1/{schema}/{table}/…`.
 */
export function objectPath(input: ObjectPathInput): { path: string; token: string } {
  checkName(input.schema, 'schema');
  checkName(input.table, 'table');
  checkName(input.field, 'field');
  const token = input.token ?? generateToken(input.tokenLength ?? 8);
  let ext = input.ext ?? '';
  if (ext && !ext.startsWith('.')) ext = `.${ext}`;
  if (ext.includes('/')) throw new DataJointError(`Invalid extension "${ext}"`);
  const partitioned = new Set(partitionAttributes(input.partitionPattern).filter((a) => a in input.primaryKey));
  const part = (attr: string) => `${attr}=${encodePkValue(input.primaryKey[attr], input.kinds?.[attr])}`;
  const lead = [...partitioned].map(part);
  const rest = Object.keys(input.primaryKey).filter((a) => !partitioned.has(a)).map(part);
  const path = [trimSlashes(input.schemaPrefix ?? '_schema'), ...lead, input.schema, input.table, ...rest, `${input.field}_${token}${ext}`]
    .filter(Boolean)
    .join('/');
  return { path, token };
}

/** Path of the manifest DataJoint Python writes beside a folder-valued object. */
export function manifestPath(objectPath: string): string {
  return `${objectPath}.manifest.json`;
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}

function checkName(name: string, what: string): void {
  if (typeof name !== 'string' || !name || name.includes('/') || name === '.' || name === '..') {
    throw new DataJointError(`Invalid ${what} name for an object path: ${JSON.stringify(name)}`);
  }
}

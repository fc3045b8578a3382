/**
 * MD5 (content hashes of blobs, attachments and stored objects): one-shot, streaming and
 * many-buffers-in-parallel. Uses the native addon when it is loaded, node:crypto otherwise;
 * the digests are identical.
 *
 * Which path serves a call (bench/md5.bench.ts, ratios to node:crypto's `crypto.hash`):
 * - one buffer, any size: the addon. Its MD5 (native/src/md5core.rs) runs at OpenSSL's speed
 *   for large inputs (100 MB: 1.03-1.06×) and has less per-call overhead for small ones
 *   (16 B-4 KB: 1.1-1.6×), so no size threshold pays; strings are encoded with Buffer.from
 *   first, which beats `crypto.hash(string)` (32-byte strings: 3×). A stale addon build
 *   (md5Impl 'asm') is faster only below 512 B: larger inputs then go to node:crypto.
 * - many buffers (`md5Many`): one call into the addon for all of them, which saves the
 *   per-call overhead and, from 256 KB of total work on, spreads them over all cores in
 *   batches of ~256 KB (10,000 × 4 KB: ~2× on 2 cores); a single buffer goes to `md5`.
 * - without the addon: `crypto.hash`, the fastest node:crypto entry point at every size.
 */
import crypto from 'node:crypto';
import { native, type NativeMd5 } from './native/index.js';

/** Input accepted by the MD5 functions; strings are hashed as UTF-8 unless an encoding is given. */
export type HashInput = ArrayBufferView | ArrayBuffer | string;
/** Output encodings of a digest. */
export type DigestEncoding = 'hex' | 'base64' | 'base64url';

function toBytes(data: HashInput, encoding?: BufferEncoding): ArrayBufferView | ArrayBuffer {
  if (typeof data === 'string') return Buffer.from(data, encoding ?? 'utf8');
  if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) return data;
  throw new TypeError('MD5 input must be a string, Buffer, TypedArray, DataView or ArrayBuffer');
}

function asUint8(data: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (data instanceof Uint8Array) return data;
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

const hasCryptoHash = typeof (crypto as { hash?: unknown }).hash === 'function';

function cryptoMd5(bytes: ArrayBufferView | ArrayBuffer): Buffer {
  const u8 = asUint8(bytes);
  if (hasCryptoHash) return crypto.hash('md5', u8, 'buffer');
  return crypto.createHash('md5').update(u8).digest();
}

/**
 * Inputs up to this many bytes go to the addon's MD5. Current builds (md5Impl 'rust') beat
 * OpenSSL at every size; older ones (the md-5 crate's assembly, md5Impl 'asm') only below
 * ~512 B (0.75-0.85× above), so with a stale build larger inputs go to node:crypto.
 */
const NATIVE_MD5_MAX = native?.md5Impl === 'rust' ? Infinity : 512;

/** MD5 of one view on the fastest path for its size. */
function md5Bytes(bytes: ArrayBufferView | ArrayBuffer): Buffer {
  return native && bytes.byteLength <= NATIVE_MD5_MAX ? native.md5(bytes) : cryptoMd5(bytes);
}

function encode(digest: Buffer, encoding?: DigestEncoding): Buffer | string {
  return encoding ? digest.toString(encoding) : digest;
}

/** MD5 digest of `data` (16-byte Buffer, or a string in `encoding`). */
export function md5(data: HashInput): Buffer;
export function md5(data: HashInput, encoding: DigestEncoding): string;
export function md5(data: HashInput, encoding?: DigestEncoding): Buffer | string {
  return encode(md5Bytes(toBytes(data)), encoding);
}

/**
 * MD5 digests of many buffers, in input order: with the addon in one call (in parallel when
 * there is enough work), else one by one.
 */
export function md5Many(buffers: readonly HashInput[]): Buffer[];
export function md5Many(buffers: readonly HashInput[], encoding: DigestEncoding): string[];
export function md5Many(buffers: readonly HashInput[], encoding?: DigestEncoding): Buffer[] | string[] {
  const views = buffers.map((b) => toBytes(b));
  let digests: Buffer[];
  if (native && views.length > 1) {
    const all = native.md5Many(views);
    digests = views.map((_, i) => all.subarray(16 * i, 16 * i + 16));
  } else {
    digests = views.map(md5Bytes);
  }
  return encoding ? digests.map((d) => d.toString(encoding)) : digests;
}

/** Incremental MD5, like node:crypto's `Hash` restricted to MD5. */
export interface Md5Hash {
  /** Feed more data (strings as UTF-8 unless `inputEncoding`); returns `this`. */
  update(data: HashInput, inputEncoding?: BufferEncoding): this;
  /** The digest (once; later calls throw, as node:crypto does). */
  digest(): Buffer;
  digest(encoding: DigestEncoding): string;
}

class NativeMd5Hash implements Md5Hash {
  readonly #state: NativeMd5;
  constructor(ctor: new () => NativeMd5) {
    this.#state = new ctor();
  }
  update(data: HashInput, inputEncoding?: BufferEncoding): this {
    this.#state.update(toBytes(data, inputEncoding));
    return this;
  }
  digest(): Buffer;
  digest(encoding: DigestEncoding): string;
  digest(encoding?: DigestEncoding): Buffer | string {
    return encode(this.#state.digest(), encoding);
  }
}

class CryptoMd5Hash implements Md5Hash {
  readonly #hash = crypto.createHash('md5');
  update(data: HashInput, inputEncoding?: BufferEncoding): this {
    if (typeof data === 'string') this.#hash.update(data, inputEncoding ?? 'utf8');
    else this.#hash.update(asUint8(toBytes(data)));
    return this;
  }
  digest(): Buffer;
  digest(encoding: DigestEncoding): string;
  digest(encoding?: DigestEncoding): Buffer | string {
    return encode(this.#hash.digest(), encoding);
  }
}

/** A new streaming MD5. */
export function createMd5(): Md5Hash {
  return native ? new NativeMd5Hash(native.Md5) : new CryptoMd5Hash();
}

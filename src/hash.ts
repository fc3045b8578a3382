/**
 * MD5 (content hashes of blobs, attachments and stored objects): one-shot, streaming and
 * many-buffers-in-parallel. Uses the native addon when it is loaded, node:crypto otherwise;
 * the digests are identical.
 *
 * Measured (bench/blob-native.bench.ts): the addon's MD5 is as fast as OpenSSL's for large
 * inputs (both ~700 MB/s per core) and has less per-call overhead than `crypto.hash` for small
 * ones (16 B: 0.9 vs 1.05 µs), so it is used at every size; `md5Many` hashes on all cores
 * (8 × 16 MB: 2.0× sequential node:crypto on 2 cores). Without the addon, `crypto.hash` is the
 * fastest node:crypto entry point at every size.
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

function encode(digest: Buffer, encoding?: DigestEncoding): Buffer | string {
  return encoding ? digest.toString(encoding) : digest;
}

/** MD5 digest of `data` (16-byte Buffer, or a string in `encoding`). */
export function md5(data: HashInput): Buffer;
export function md5(data: HashInput, encoding: DigestEncoding): string;
export function md5(data: HashInput, encoding?: DigestEncoding): Buffer | string {
  const bytes = toBytes(data);
  const digest = native ? native.md5(bytes) : cryptoMd5(bytes);
  return encode(digest, encoding);
}

/** MD5 digests of many buffers, computed in parallel by the native addon when available. */
export function md5Many(buffers: readonly HashInput[]): Buffer[];
export function md5Many(buffers: readonly HashInput[], encoding: DigestEncoding): string[];
export function md5Many(buffers: readonly HashInput[], encoding?: DigestEncoding): Buffer[] | string[] {
  const views = buffers.map((b) => toBytes(b));
  let digests: Buffer[];
  if (native && views.length > 1) {
    const all = native.md5Many(views);
    digests = views.map((_, i) => all.subarray(16 * i, 16 * i + 16));
  } else {
    digests = views.map((v) => (native ? native.md5(v) : cryptoMd5(v)));
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

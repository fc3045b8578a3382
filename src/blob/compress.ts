/**
 * zlib for the blob wrapper `ZL123\0` (docs/blob-format.md §1). Output is always an ordinary
 * RFC 1950 zlib stream (DataJoint Python reads it with `zlib.decompress`); decoding accepts any
 * valid zlib stream.
 *
 * Implementations, chosen by measurement (bench/blob-native.bench.ts; 100 MB float64, 2 cores):
 * - compress: the native addon's adaptive parallel deflate. Each 1 MiB chunk is probed; chunks
 *   that would shrink by less than 10% (random float64 shrinks ~5%) are stored instead of being
 *   compressed for nothing, nearly constant chunks use level 1, the rest level 2, on all cores.
 *   Without the addon: node:zlib with a sampled probe of the whole buffer (fflate is slower
 *   than node:zlib at every size measured).
 * - decompress: the addon's inflater (faster than node:zlib and fflate on random, zeros and
 *   typical data), node:zlib without it.
 * DataJoint Python compresses at level 6, which costs 5-10x the time for a few percent of size;
 * blobs written here are therefore not byte-identical to Python's, only equivalent.
 */
import { constants as bufferConstants } from 'node:buffer';
import { constants, deflateRawSync, deflateSync, inflateSync } from 'node:zlib';
import { BlobError } from '../errors.js';
import { native } from '../native/index.js';

/** miniz level for chunks that compress (native path). */
const NATIVE_LEVEL = 2;
/** node:zlib level for buffers that compress (TypeScript path). */
const NODE_LEVEL = 1;
/** TypeScript path: buffers at least this long are probed before compressing. */
const PROBE_MIN = 256 << 10;
const PROBE_SAMPLES = 8;
const PROBE_LEN = 16 << 10;
/** A probe that compresses to more than this fraction means: do not compress. */
const STORE_ABOVE = 0.9;

/** Sampled estimate of how well `data` compresses (compressed / original), node:zlib level 1. */
function probeRatio(data: Uint8Array): number {
  const stride = Math.floor((data.length - PROBE_LEN) / (PROBE_SAMPLES - 1));
  let inBytes = 0;
  let outBytes = 0;
  for (let i = 0; i < PROBE_SAMPLES; i++) {
    const sample = data.subarray(i * stride, i * stride + PROBE_LEN);
    outBytes += deflateRawSync(sample, { level: 1 }).length;
    inBytes += sample.length;
  }
  return outBytes / inBytes;
}

function nodeCompress(data: Uint8Array, limit: number): Buffer | null {
  if (data.length >= PROBE_MIN && probeRatio(data) > STORE_ABOVE) {
    // Incompressible: a stored stream (level 0) is always longer than the input.
    if (limit <= data.length + 6) return null;
    return deflateSync(data, { level: 0 });
  }
  const out = deflateSync(data, { level: NODE_LEVEL });
  return out.length < limit ? out : null;
}

/**
 * zlib-wrapped (RFC 1950) deflate of `data`. Always returns a valid stream; for incompressible
 * data that is a stored (uncompressed) stream, slightly longer than the input, so the blob
 * encoder's "use it only if shorter" rule keeps the raw blob. Prefer `zlibCompressIfSmaller`,
 * which skips producing such a stream at all.
 */
export function zlibCompress(data: Uint8Array): Buffer {
  if (native) return native.deflateAdaptive(data, NATIVE_LEVEL) as Buffer;
  return nodeCompress(data, Infinity) as Buffer;
}

/**
 * The zlib stream of `data` if it is shorter than `limit` bytes, otherwise `null` (decided
 * early and cheaply for data that does not compress). The blob encoder passes
 * `limit = raw.length - 14` (the `ZL123\0` + u64 header). `data` may be a list of pieces
 * (e.g. the blob's header bytes and the array's own bytes), compressed as their
 * concatenation; with the addon they are never concatenated, which saves writing a full
 * uncompressed copy of a large array that then compresses well.
 */
export function zlibCompressIfSmaller(data: Uint8Array | readonly Uint8Array[], limit: number): Buffer | null {
  if (limit <= 0) return null;
  if (native) return native.deflateAdaptive(data, NATIVE_LEVEL, Number.isFinite(limit) ? limit : undefined);
  return nodeCompress(isPieces(data) ? Buffer.concat(data) : data, limit);
}

function isPieces(data: Uint8Array | readonly Uint8Array[]): data is readonly Uint8Array[] {
  return Array.isArray(data);
}

function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/**
 * Offset at which the native path places inflated bytes in their ArrayBuffer: a top-level
 * numeric array's data starts at blob offset 21 + 8·ndim (≡ 5 mod 8), so with 3 it lands
 * 8-byte aligned and the decoder can return a typed-array view instead of a copy.
 */
export const INFLATE_BYTE_OFFSET = 3;

/**
 * node:zlib output chunks are at least this long (node's default). Not more: when a stream
 * turns out to be corrupt, node keeps the chunk (and its zlib state) until the event loop turns.
 */
const NODE_MIN_CHUNK = 16 << 10;
/**
 * node:zlib output chunks are at most this many times the compressed length: memory grows with
 * the output actually produced, not with the size a (possibly corrupt) header declares.
 */
const NODE_CHUNK_FACTOR = 4;

/** node:zlib inflate capped at `expectedSize`, growing in chunks as output is produced. */
function nodeInflate(data: Uint8Array, expectedSize: number): Buffer {
  // One chunk of expectedSize + 1 (when the input justifies it) gives the result without a
  // concatenating copy: node only starts a second chunk once the first is completely full.
  // node refuses chunks below Z_MIN_CHUNK (64) bytes.
  const chunkSize = Math.max(constants.Z_MIN_CHUNK, Math.min(expectedSize + 1, Math.max(NODE_MIN_CHUNK, data.length * NODE_CHUNK_FACTOR)));
  let res: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    res = inflateSync(data, {
      chunkSize,
      maxOutputLength: Math.max(expectedSize, 1),
      finishFlush: constants.Z_FINISH,
      info: true,
    }) as unknown as typeof res;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new BlobError('Blob size mismatch', { cause: err });
    throw new BlobError(`Invalid compressed blob: ${(err as Error).message}`, { cause: err });
  }
  if (res.buffer.length !== expectedSize) throw new BlobError('Blob size mismatch');
  if (res.engine.bytesWritten !== data.length) {
    throw new BlobError(`Invalid compressed blob: ${data.length - res.engine.bytesWritten} bytes after the end of the zlib stream`);
  }
  return res.buffer;
}

/**
 * Inflate a zlib stream whose decompressed size is declared to be `expectedSize`. Throws
 * `BlobError` for a corrupt stream, a different size, or bytes after the end of the stream
 * (zlib.decompress in DataJoint Python ignores those; nothing valid has them). Memory grows
 * with the output actually produced, never beyond `expectedSize`, so a corrupt size field
 * cannot make a small blob allocate a large buffer.
 *
 * `byteOffset` (native path only; 0..4096, default {@link INFLATE_BYTE_OFFSET}): the result
 * starts that many bytes into an allocator-aligned ArrayBuffer of its own. Decoders must still
 * check `(buf.byteOffset + at) % size === 0` before creating a typed view: the node:zlib path
 * returns buffers at other offsets.
 */
export function zlibDecompress(data: Uint8Array, expectedSize: number, byteOffset = INFLATE_BYTE_OFFSET): Buffer {
  if (!Number.isSafeInteger(expectedSize) || expectedSize < 0) {
    throw new BlobError(`Invalid uncompressed blob size ${expectedSize}`);
  }
  if (expectedSize > bufferConstants.MAX_LENGTH) {
    throw new BlobError(`Blob size mismatch: ${expectedSize} bytes exceed the largest possible buffer`);
  }
  if (!native) return nodeInflate(data, expectedSize);
  try {
    return asBuffer(native.inflate(data, expectedSize, byteOffset));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'DJ_ZLIB_SIZE') throw new BlobError('Blob size mismatch', { cause: err });
    if (code === 'DJ_ZLIB_DATA') throw new BlobError(`Invalid compressed blob: ${(err as Error).message}`, { cause: err });
    if (code === 'DJ_ZLIB_NOMEM') throw new BlobError(`Blob too large to inflate: ${(err as Error).message}`, { cause: err });
    throw err;
  }
}

/**
 * Pure-TypeScript blob decoder (docs/blob-format.md).
 *
 * Every length read from the blob is checked against the bytes that remain (within the current
 * ITEM) before anything is allocated, so corrupt input raises BlobError instead of crashing or
 * allocating huge buffers. Numeric array data is returned as a view on the input when aligned,
 * otherwise with exactly one copy.
 *
 * This module unwraps compression, checks the protocol header and dispatches each element by its
 * type code (`Reader.elem`); the bounds-checked reads are in unpack-read.ts, the element families
 * in unpack-array.ts (numeric, char, object and datetime64 arrays), unpack-struct.ts (structured
 * arrays, MATLAB structs and cells) and unpack-python.ts (dicts, ints, datetimes).
 */
import { constants as bufferConstants } from 'node:buffer';
import { BlobError, DataJointError } from '../errors.js';
import { zlibDecompress } from './compress.js';
import { Complex } from './ndarray.js';
import { DECIMAL_RE, Decimal, PyFloat, Tuple, UUID } from './types.js';
import { readArray } from './unpack-array.js';
import { readDatetime, readDict, readInt } from './unpack-python.js';
import { BlobReader, type UnpackOptions } from './unpack-read.js';
import { readCell, readRec, readStruct } from './unpack-struct.js';

export type { UnpackOptions } from './unpack-read.js';

// deflate cannot expand data by more than ~1032x; a larger claimed size is corrupt.
const MAX_INFLATE_RATIO = 1040;

/** The decoder: BlobReader's checked reads plus the dispatch on each element's type code. */
class Reader extends BlobReader {
  elem(): unknown {
    this.enter();
    const code = this.byte();
    let v: unknown;
    switch (code) {
      case 0xff:
        v = null;
        break;
      case 0x01:
      case 0x02:
      case 0x03: {
        const n = this.count('element count', this.lenSize + 1);
        const items: unknown[] = code === 0x01 ? new Tuple() : [];
        for (let i = 0; i < n; i++) items.push(this.item());
        v = code === 0x03 ? new Set(items) : items;
        break;
      }
      case 0x04:
        v = readDict(this);
        break;
      case 0x05: {
        const n = this.count('string length', 1);
        v = this.utf8(this.slice(n), 'a string');
        break;
      }
      case 0x06: {
        const n = this.count('bytes length', 1);
        const s = this.slice(n);
        v = Buffer.from(s.buffer, s.byteOffset, s.byteLength);
        break;
      }
      case 0x0a:
        v = readInt(this);
        break;
      case 0x0b:
        v = this.byte() !== 0;
        break;
      case 0x0c: {
        const re = this.f64();
        v = new Complex(re, this.f64());
        break;
      }
      case 0x0d: {
        const x = this.f64();
        v = this.typed ? new PyFloat(x) : x;
        break;
      }
      case 0x64: {
        const n = this.count('decimal length', 1);
        const s = Buffer.from(this.slice(n)).toString('latin1');
        if (!DECIMAL_RE.test(s)) throw new BlobError(`Blob is corrupt: invalid decimal text ${JSON.stringify(s.slice(0, 40))}`);
        v = new Decimal(s);
        break;
      }
      case 0x74:
        v = readDatetime(this);
        break;
      case 0x75:
        this.need(16, 'a UUID');
        v = new UUID(this.slice(16));
        break;
      case 0x41:
        v = readArray(this, false);
        break;
      case 0x46:
        v = readRec(this);
        break;
      case 0x53:
        v = readStruct(this);
        break;
      case 0x43:
        v = readCell(this);
        break;
      case 0x50:
        throw new BlobError('datajoint-python does not yet support sparse arrays. Issue (#590)');
      default: {
        const c = code >= 0x20 && code < 0x7f ? String.fromCharCode(code) : `\\x${code.toString(16).padStart(2, '0')}`;
        throw new BlobError(`Unknown data structure code "${c}". Upgrade datajoint.`);
      }
    }
    this.leave();
    return v;
  }
}

function startsWith(b: Uint8Array, s: string): boolean {
  if (b.length < s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Deserialize a DataJoint blob (pure TypeScript implementation). */
export function unpackTs(bytes: Uint8Array, opts: UnpackOptions = {}): unknown {
  if (!(bytes instanceof Uint8Array)) throw new BlobError('unpack expects a Buffer or Uint8Array');
  let blob = bytes;
  if (startsWith(blob, 'ZL123\0')) {
    const hdr = opts.dims32 ? 10 : 14;
    if (blob.length < hdr) throw new BlobError('Blob is truncated: incomplete compression header');
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const size = opts.dims32 ? dv.getUint32(6, true) : dv.getUint32(6, true) + dv.getUint32(10, true) * 0x1_0000_0000;
    const zlen = blob.length - hdr;
    if (size > bufferConstants.MAX_LENGTH || size > zlen * MAX_INFLATE_RATIO + 1024) {
      throw new BlobError(`Blob size mismatch: header claims ${size} bytes from ${zlen} compressed bytes`);
    }
    let inflated: Uint8Array;
    try {
      inflated = zlibDecompress(blob.subarray(hdr), size);
    } catch (e) {
      throw new BlobError(`Blob decompression failed: ${(e as Error).message}`, { cause: e });
    }
    if (inflated.length !== size) throw new BlobError('Blob size mismatch');
    blob = inflated;
  }
  // Upstream reads the header up to the first NUL and returns None for unknown protocols.
  if (!startsWith(blob, 'mYm\0') && !startsWith(blob, 'dj0\0')) return null;
  const r = new Reader(blob, 4, opts);
  let v: unknown;
  try {
    v = r.elem();
  } catch (e) {
    if (e instanceof BlobError) throw e;
    // A wrapper constructor refusing a value, or the stack running out: still a corrupt blob.
    if (e instanceof DataJointError || e instanceof RangeError) {
      throw new BlobError(`Blob could not be decoded: ${e.message}`, { cause: e });
    }
    throw e;
  }
  if (!r.atEnd) throw new BlobError('Blob length check failed! Invalid blob');
  return v;
}

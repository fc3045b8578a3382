/**
 * The bounds-checked core of the blob decoder (unpack.ts): primitive reads, LEN fields, ITEM
 * framing, shapes and the nesting limit. Every length read from the blob is checked against the
 * bytes that remain (within the current ITEM) before anything is allocated, so corrupt input
 * raises BlobError instead of crashing or allocating huge buffers.
 *
 * The element readers (unpack-array.ts, unpack-struct.ts, unpack-python.ts) are functions of a
 * `BlobReader`; `elem`, which dispatches to them, is supplied by the Reader in unpack.ts, so
 * none of them imports the dispatcher back.
 */
import { BlobError } from '../errors.js';

export interface UnpackOptions {
  /** Drop size-1 axes of arrays and turn 0-d results into scalars (upstream `squeeze=True`). */
  squeeze?: boolean;
  /** Read every LEN as u32 (blobs written by the 32-bit mYm MEX). */
  dims32?: boolean;
  /**
   * Keep scalar types: numpy scalars / 0-d arrays decode to NpScalar and Python floats to
   * PyFloat, so re-packing gives the same bytes. Default false: plain JS numbers.
   */
  typedScalars?: boolean;
}

// Containers may nest 1000 deep (the encoder's limit); +1 for the innermost leaf element.
const MAX_DEPTH = 1001;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** A bigint as a number when it is a safe integer. */
export function toSafe(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

export abstract class BlobReader {
  pos: number;
  /** End of the current ITEM (or of the blob): nothing may be read past it. */
  end: number;
  private depth = 0;
  readonly dv: DataView;
  readonly lenSize: 4 | 8;
  readonly squeeze: boolean;
  readonly typed: boolean;

  constructor(
    readonly u8: Uint8Array,
    start: number,
    opts: UnpackOptions,
  ) {
    this.pos = start;
    this.end = u8.length;
    this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.lenSize = opts.dims32 ? 4 : 8;
    this.squeeze = !!opts.squeeze;
    this.typed = !!opts.typedScalars;
  }

  get atEnd(): boolean {
    return this.pos === this.u8.length;
  }

  /** One element: its type code, then its content. */
  abstract elem(): unknown;

  /** Count one more level of nesting (refused past MAX_DEPTH); `leave` when it is read. */
  enter(): void {
    if (++this.depth > MAX_DEPTH) throw new BlobError(`Blob is nested more than ${MAX_DEPTH - 1} levels deep`);
  }
  leave(): void {
    this.depth--;
  }

  // --- primitive reads --------------------------------------------------------------------

  need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new BlobError(
        `Blob is truncated or corrupt: ${what} needs ${n} bytes at offset ${this.pos}, only ${this.end - this.pos} remain`,
      );
    }
  }
  byte(): number {
    this.need(1, 'a byte');
    return this.u8[this.pos++]!;
  }
  u16(): number {
    this.need(2, 'a u16');
    const x = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return x;
  }
  u32(): number {
    this.need(4, 'a u32');
    const x = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return x;
  }
  f64(): number {
    this.need(8, 'a float64');
    const x = this.dv.getFloat64(this.pos, true);
    this.pos += 8;
    return x;
  }
  /** A LEN field (u64, or u32 in 32-bit mode) as a safe integer. */
  len(what: string): number {
    if (this.lenSize === 4) return this.u32();
    this.need(8, what);
    const lo = this.dv.getUint32(this.pos, true);
    const hi = this.dv.getUint32(this.pos + 4, true);
    if (hi >= 0x20_0000) throw new BlobError(`Blob is corrupt: ${what} ${hi * 2 ** 32 + lo} is implausibly large`);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }
  /** A count of things that take at least `minBytes` each; checked against what remains. */
  count(what: string, minBytes: number): number {
    const n = this.len(what);
    if (n * minBytes > this.end - this.pos) {
      throw new BlobError(`Blob is truncated or corrupt: ${what} ${n} does not fit in the ${this.end - this.pos} remaining bytes`);
    }
    return n;
  }
  slice(n: number): Uint8Array {
    const s = this.u8.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  /** `bytes` decoded as UTF-8; `what` names them in the error for invalid UTF-8. */
  utf8(bytes: Uint8Array, what: string): string {
    try {
      return utf8Decoder.decode(bytes);
    } catch (e) {
      throw new BlobError(`Blob is corrupt: ${what} is not valid UTF-8`, { cause: e });
    }
  }

  // --- structure --------------------------------------------------------------------------

  /** ITEM: LEN n followed by one element that must use exactly n bytes. */
  item(): unknown {
    const n = this.len('item length');
    this.need(n, 'an item');
    const outer = this.end;
    this.end = this.pos + n;
    const v = this.elem();
    if (this.pos !== this.end) {
      throw new BlobError(`Blob is corrupt: an item used ${n - (this.end - this.pos)} of its ${n} bytes`);
    }
    this.end = outer;
    return v;
  }

  /** An array shape: LEN ndim, then LEN per dimension. */
  shape(): number[] {
    const ndim = this.count('ndim', this.lenSize);
    const shape: number[] = [];
    for (let i = 0; i < ndim; i++) shape.push(this.len('dimension'));
    return shape;
  }

  /** Number of elements of `shape`, ensuring `size * minBytes` fits in what remains. */
  elements(shape: readonly number[], minBytes: number, what: string): number {
    let n = 1;
    for (const d of shape) n *= d;
    if (n === 0) return 0;
    if (!(n * minBytes <= this.end - this.pos)) {
      throw new BlobError(
        `Blob is truncated or corrupt: ${what} of shape [${shape.join(', ')}] does not fit in the ${this.end - this.pos} remaining bytes`,
      );
    }
    return n;
  }
}

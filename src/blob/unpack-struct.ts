/**
 * Elements with named fields or nested values, for the blob decoder (unpack.ts): numpy
 * structured arrays (`F`), MATLAB struct arrays (`S`) and MATLAB cell arrays (`C`). Field names
 * are checked (terminated, valid UTF-8, distinct) and every count against the bytes that remain.
 */
import { BlobError } from '../errors.js';
import { MatCell, MatStruct, RecArray, type RecField } from './types.js';
import { readArray } from './unpack-array.js';
import type { BlobReader } from './unpack-read.js';

/** Field names: a u32 count, then NUL-terminated UTF-8 names. */
function readNames(r: BlobReader): string[] {
  const nf = r.u32();
  if (nf > r.end - r.pos) throw new BlobError(`Blob is corrupt: ${nf} field names do not fit in the remaining bytes`);
  const names: string[] = [];
  for (let i = 0; i < nf; i++) {
    const rel = r.u8.subarray(r.pos, r.end).indexOf(0);
    if (rel < 0) throw new BlobError('Blob is truncated or corrupt: unterminated field name');
    const z = r.pos + rel;
    const name = r.utf8(r.u8.subarray(r.pos, z), 'a field name');
    r.pos = z + 1;
    names.push(name);
  }
  if (new Set(names).size !== names.length) throw new BlobError('Blob is corrupt: duplicate field names');
  return names;
}

/** `F`: numpy structured array, one whole array per field with no length prefix. */
export function readRec(r: BlobReader): RecArray | null {
  const names = readNames(r);
  if (names.length === 0) return null; // upstream: np.array(None)
  const fields: Array<{ name: string; value: RecField }> = [];
  for (const name of names) {
    r.need(1, 'a field');
    const code = r.u8[r.pos]!;
    let value: unknown;
    if (code === 0x41) {
      r.pos++;
      value = readArray(r, true);
    } else if (code === 0x46) {
      r.pos++;
      // Nested structured fields recurse without going through elem(): count them here.
      r.enter();
      value = readRec(r);
      r.leave();
      if (value === null) throw new BlobError('Blob is corrupt: a nested structured field has no fields');
    } else {
      throw new BlobError(`Blob is corrupt: field "${name}" of a structured array is not an array`);
    }
    fields.push({ name, value: value as RecField });
  }
  return new RecArray(fields);
}

/** `S`: MATLAB struct array; values element by element (F order), field by field. */
export function readStruct(r: BlobReader): MatStruct {
  const shape = r.shape();
  const fields = readNames(r);
  const n = fields.length ? r.elements(shape, fields.length * (r.lenSize + 1), 'struct array') : checkedSize(shape);
  const values: unknown[] = [];
  for (let i = 0; i < n * fields.length; i++) values.push(r.item());
  return new MatStruct({ shape: r.squeeze ? shape.filter((d) => d !== 1) : shape, fields, values });
}

/** `C`: MATLAB cell array. An empty cell comes back with shape [0], as upstream. */
export function readCell(r: BlobReader): MatCell {
  const shape = r.shape();
  const n = r.elements(shape, r.lenSize + 1, 'cell array');
  const data: unknown[] = [];
  for (let i = 0; i < n; i++) data.push(r.item());
  const out = n === 0 ? [0] : r.squeeze ? shape.filter((d) => d !== 1) : shape;
  return new MatCell({ shape: out, data });
}

function checkedSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n)) throw new BlobError(`Blob is corrupt: shape [${shape.join(', ')}] is too large`);
  return n;
}

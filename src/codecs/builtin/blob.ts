/**
 * `<blob>`: any supported value in the DataJoint blob format (byte-compatible with DataJoint
 * Python and MATLAB). In the table as bytes; with `@` its dtype is `<hash>`, so the packed
 * bytes go to the store content-addressed and deduplicated (`<blob@>` → `<hash@>` → json).
 */
import { pack, unpack } from '../../blob/index.js';
import { config } from '../../config.js';
import { DataJointError } from '../../errors.js';
import { builtinDtype } from '../builtin-dtypes.js';
import { Codec } from '../codec.js';

class BlobCodec extends Codec {
  readonly name = 'blob';
  getDtype(isExternal: boolean): string {
    return builtinDtype('blob', isExternal);
  }
  encode(value: unknown): Buffer {
    return pack(value, { compress: config.get('blob.compress') !== false });
  }
  decode(stored: unknown): unknown {
    if (!(stored instanceof Uint8Array)) throw new DataJointError(`<blob> expected bytes to decode, got ${typeof stored}`);
    return unpack(stored);
  }
}

export const blobCodec = new BlobCodec();

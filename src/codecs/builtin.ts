/**
 * Built-in codecs. `<blob>` serializes any supported value with the DataJoint blob format.
 * External storage variants (`@store`) arrive with the object-storage work.
 */
import { pack, unpack } from '../blob/index.js';
import { DataJointError } from '../errors.js';
import { config } from '../config.js';
import { Codec, type CodecContext, registerCodec } from './codec.js';

class BlobCodec extends Codec {
  name = 'blob';
  getDtype(isExternal: boolean): string {
    return isExternal ? 'json' : 'bytes';
  }
  encode(value: unknown, ctx: CodecContext): Buffer {
    if (ctx.storeName != null) throw new DataJointError('<blob@store> needs object storage, which is not available in this version');
    return pack(value, { compress: Boolean(config.get('blob.compress') ?? true) });
  }
  decode(stored: unknown): unknown {
    if (!(stored instanceof Uint8Array)) throw new DataJointError('<blob> expected bytes from the database');
    return unpack(stored);
  }
}

export const blobCodec = registerCodec(new BlobCodec());

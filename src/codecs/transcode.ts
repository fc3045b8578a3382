/**
 * Insert of a codec column's stored form (stored-form.ts), e.g. from `T2.insert(await
 * T.toArrow())`: the value is copied into the target attribute's chain, not encoded again as
 * if it were a user value (which would pack the packed bytes of a `<blob>` a second time).
 *
 * The two chains are compared codec by codec, outermost first. Where they agree the value is
 * not touched: an identical in-table chain (`<blob>` → `<blob>`) takes the stored bytes as they
 * are, so nothing is unpacked and packed again (which could lose what JS values cannot tell
 * apart, such as a Python float 3.0). Otherwise the source's inner codecs decode down to the
 * first codec that differs, and the target's encode from there. A store-writing innermost codec
 * is always redone, so the object lands where the target puts it (`<blob@>` → `<blob@>` reads
 * the packed bytes and stores them under the target's schema; content addressing dedups them).
 */
import { AttributeTypeError, DataJointError } from '../errors.js';
import type { CodecContext } from './codec.js';
import { build, type CodecPipeline } from './pipeline.js';
import { parseCodecSpec } from './registry.js';
import type { StoredForm } from './stored-form.js';
import { storeSpec } from '../stores/registry.js';

const BLOB_MAGIC = ['mYm\0', 'dj0\0', 'ZL123\0'].map((m) => Buffer.from(m, 'latin1'));

/** Is `v` what `<blob>` stores (packed bytes with one of the blob format's headers)? */
function isPackedBlob(v: unknown): boolean {
  if (!(v instanceof Uint8Array)) return false;
  const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return BLOB_MAGIC.some((m) => b.subarray(0, m.length).equals(m));
}

/** The stored value as the source chain's core dtype holds it: JSON text parsed, bytes checked. */
function coreValue(source: CodecPipeline, sf: StoredForm): unknown {
  const { dtype } = source.chain;
  const v = sf.value;
  if (dtype === 'json') {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v);
    } catch {
      throw new AttributeTypeError(`a column marked as the stored form of ${sf.spec} holds text that is not JSON: ${v.slice(0, 80)}`);
    }
  }
  if (dtype === 'bytes' && !(v instanceof Uint8Array)) throw new AttributeTypeError(`a column marked as the stored form of ${sf.spec} holds ${typeof v}, not bytes`);
  return v;
}

/** The value at `level` of the source chain (the input of codec `level`) must fit what that codec wrote. */
function checkLevel(names: readonly string[], level: number, v: unknown, spec: string): void {
  if (level > 0 && names[level - 1] === 'blob' && !isPackedBlob(v)) {
    throw new AttributeTypeError(`a column marked as the stored form of ${spec} holds bytes that are not a packed blob (no mYm, dj0 or ZL123 header)`);
  }
}

/** A decoded value as the target codec takes it: what a fetch gives is not always what insert accepts. */
async function asInput(v: unknown, target: string): Promise<unknown> {
  const { NpyRef } = await import('./builtin/npy.js');
  if (v instanceof NpyRef) return v.load();
  const { ObjectRef } = await import('../objects/object-ref.js');
  // `<filepath@>` takes the path of a file already in the store; it checks it again.
  if (v instanceof ObjectRef && target === 'filepath') return v.path;
  return v;
}

/**
 * The value of the target's core dtype for a stored form (what `pipeline.encode` returns for a
 * user value). With `check`, only what needs no store access is checked and undefined returned.
 */
export async function transcode(sf: StoredForm, target: CodecPipeline, ctx: CodecContext, check: boolean): Promise<unknown> {
  const { name, store } = parseCodecSpec(sf.spec);
  const source = await build(name, store).catch((err: unknown) => {
    throw new DataJointError(`the column holds the stored form of ${sf.spec}, which cannot be read here: ${(err as Error).message}`, { cause: err });
  });
  const s = source.chain.codecs;
  const t = target.chain.codecs;
  let same = 0;
  while (same < s.length && same < t.length && s[same] === t[same]) same++;
  let level = same;
  if (source.external) level = Math.min(level, s.length - 1);
  if (target.external) level = Math.min(level, t.length - 1);
  let v = coreValue(source, sf);
  // A `<filepath@>` value references a file the user placed in the store (never collected by
  // dj.gc): the same chain and store keep the reference as it is, timestamp and hash included,
  // rather than re-reading (and re-hashing) the file.
  if (same === s.length && same === t.length && source.chain.store === target.chain.store && s[s.length - 1] === 'filepath') level = s.length;
  if (level === s.length) checkLevel(s, level, v, sf.spec);
  if (check) {
    if (target.external) storeSpec(target.chain.store || null); // the target's store is configured
    return undefined;
  }
  const from: CodecContext = { ...ctx, storeName: source.chain.store };
  for (let i = s.length - 1; i >= level; i--) v = await source.codecs[i]!.decode(v, from);
  if (level < s.length) checkLevel(s, level, v, sf.spec);
  if (level < t.length) v = await asInput(v, t[level]!);
  const to: CodecContext = { ...ctx, storeName: target.chain.store };
  for (let i = level; i < t.length; i++) {
    const codec = target.codecs[i]!;
    if (codec.validate) await codec.validate(v);
    v = await codec.encode(v, to);
  }
  return v;
}

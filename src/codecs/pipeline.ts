/**
 * Running a codec chain for one attribute: on insert every codec encodes, outermost first
 * (`<blob@>`: pack, then upload by hash); on fetch every codec decodes, innermost first. The
 * codecs are loaded and the chain resolved once per attribute (and again only if the registry
 * changes), so fetching many rows costs one lookup.
 *
 * `check` is the write-free variant behind `validate()`: it runs the chain like `encode` but
 * only validates the innermost codec of a store-backed chain, the one that would write to the
 * store.
 */
import { DataJointError } from '../errors.js';
import type { Attribute } from '../heading/heading.js';
import type { CodecContext, CodecLike } from './codec.js';
import { storeSpec } from '../stores/registry.js';
import { type CodecChain, codecChain, loadCodec, registryVersion } from './registry.js';

export interface CodecPipeline {
  readonly chain: CodecChain;
  /** Whether values live in an object store (the chain ends in a store-backed codec). */
  readonly external: boolean;
  /** Run every codec's validate and encode; returns the value of the core dtype. */
  encode(value: unknown, ctx: CodecContext): Promise<unknown>;
  /**
   * Like encode, but the store-writing innermost codec of an external chain only validates:
   * writes nothing. Returns the encoded value for in-table chains, undefined for external ones.
   */
  check(value: unknown, ctx: CodecContext): Promise<unknown>;
  /** The cheap checks made for every row before any row is encoded: the outer codec's validate and the store's settings. */
  precheck(value: unknown): Promise<void>;
  /** Decode a value of the core dtype (already converted from the driver's form). */
  decode(stored: unknown, ctx: CodecContext): Promise<unknown>;
  /** The innermost codec (the one that stores, for external chains). */
  readonly innermost: CodecLike;
  /** The chain's codecs, outermost first (for copying a stored value between chains: transcode.ts). */
  readonly codecs: readonly CodecLike[];
}

const cache = new WeakMap<Attribute, { version: number; pipeline: Promise<CodecPipeline> }>();

/** The codec pipeline of a codec attribute (cached per attribute). */
export function codecPipeline(a: Attribute): Promise<CodecPipeline> {
  if (!a.codec) throw new DataJointError(`Attribute \`${a.name}\` has no codec`);
  const hit = cache.get(a);
  if (hit && hit.version === registryVersion()) return hit.pipeline;
  const pipeline = build(a.codec, a.store);
  const entry = { version: registryVersion(), pipeline };
  cache.set(a, entry);
  pipeline.catch(() => {
    if (cache.get(a) === entry) cache.delete(a);
  });
  return pipeline;
}

/** The pipeline of a codec spec such as `blob`, `<blob@>`, `<graph@cold>`. */
export async function build(name: string, store: string | null): Promise<CodecPipeline> {
  const chain = codecChain(name, store);
  const codecs = await Promise.all(chain.codecs.map((n) => loadCodec(n)));
  const external = chain.store !== null;
  const withStore = (ctx: CodecContext): CodecContext => ({ ...ctx, storeName: chain.store });
  return {
    chain,
    external,
    innermost: codecs[codecs.length - 1]!,
    codecs,
    async encode(value, ctx) {
      const c = withStore(ctx);
      let v = value;
      for (const codec of codecs) {
        if (codec.validate) await codec.validate(v);
        v = await codec.encode(v, c);
      }
      return v;
    },
    async check(value, ctx) {
      if (external) storeSpec(chain.store || null);
      const c = withStore(ctx);
      let v = value;
      for (let i = 0; i < codecs.length; i++) {
        const codec = codecs[i]!;
        if (codec.validate) await codec.validate(v);
        if (external && i === codecs.length - 1) return undefined;
        v = await codec.encode(v, c);
      }
      return v;
    },
    async precheck(value) {
      if (external) storeSpec(chain.store || null);
      await codecs[0]!.validate?.(value);
    },
    async decode(stored, ctx) {
      const c = withStore(ctx);
      let v = stored;
      for (let i = codecs.length - 1; i >= 0; i--) v = await codecs[i]!.decode(v, c);
      return v;
    },
  };
}

/**
 * How many values of this pipeline to encode or decode at once: the store's `concurrency` for
 * store-backed chains (transfers overlap), 1 for in-table ones (pure CPU work).
 */
export function transferLimit(p: CodecPipeline): number {
  if (!p.external) return 1;
  try {
    return storeSpec(p.chain.store || null).concurrency;
  } catch {
    return 8; // a misconfigured store fails on the first transfer, with its own message
  }
}

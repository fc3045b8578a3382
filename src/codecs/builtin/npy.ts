/**
 * `<npy@>`: a numeric array as a standard `.npy` file at a path-addressed location
 * (`_schema/{schema}/{table}/{k=v}/…/{field}_{token}.npy`), as DataJoint Python's NpyCodec
 * stores it; the column keeps `{path, store, dtype, shape}`. Fetch returns an `NpyRef`: shape
 * and dtype without I/O, the array on `load()`. Any program that reads `.npy` (numpy, MATLAB
 * readers, …) can open the files.
 */
import type { NDArray, NumericDtype } from '../../blob/ndarray.js';
import { DataJointError } from '../../errors.js';
import { type NpyMetadata, npyMetadata, parseMetadata } from '../../stores/metadata.js';
import { getStore } from '../../stores/registry.js';
import type { ObjectStore } from '../../stores/store.js';
import { builtinDtype } from '../builtin-dtypes.js';
import { Codec, type CodecContext } from '../codec.js';
import { decodeNpy, encodeNpy, npyArray } from './npy-format.js';
import { newObjectPath } from './object.js';
import { storeOf } from './store-of.js';

/** What `<npy@>` fetches: a lazy handle on a stored `.npy` array. */
export class NpyRef {
  /** Path of the `.npy` file in its store. */
  readonly path: string;
  /** Name of the store holding it. */
  readonly store: string;
  /** NumPy dtype name (`float64`, …), known without I/O. */
  readonly dtype: string;
  /** Array shape, known without I/O. */
  readonly shape: readonly number[];
  readonly #store: ObjectStore;
  #cached: NDArray | null = null;

  constructor(metadata: NpyMetadata, store: ObjectStore) {
    this.path = metadata.path;
    this.dtype = metadata.dtype;
    this.shape = Object.freeze([...metadata.shape]);
    this.store = store.name;
    this.#store = store;
  }
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, d) => a * d, 1);
  }
  get isLoaded(): boolean {
    return this.#cached !== null;
  }
  /** Download and parse the array (cached after the first call). */
  async load(): Promise<NDArray> {
    this.#cached ??= decodeNpy(await this.#store.get(this.path));
    return this.#cached;
  }
  toString(): string {
    return `NpyRef(shape=(${this.shape.join(', ')}), dtype=${this.dtype}, ${this.isLoaded ? 'loaded' : 'not loaded'})`;
  }
}

class NpyCodec extends Codec {
  readonly name = 'npy';
  getDtype(isExternal: boolean): string {
    return builtinDtype('npy', isExternal);
  }
  validate(value: unknown): void {
    npyArray(value);
  }
  async encode(value: unknown, ctx: CodecContext): Promise<NpyMetadata> {
    const storeName = ctx.storeName || null;
    const { bytes, dtype, shape } = encodeNpy(value);
    const path = newObjectPath(ctx, storeName, '.npy');
    ctx.written?.({ store: storeName, path, isDir: false });
    await (await getStore(storeName)).put(path, bytes);
    return npyMetadata({ path, store: storeName, dtype: dtype satisfies NumericDtype, shape });
  }
  async decode(stored: unknown, ctx: CodecContext): Promise<NpyRef> {
    const m = parseMetadata<NpyMetadata>(stored);
    if (typeof m.dtype !== 'string' || !Array.isArray(m.shape)) throw new DataJointError(`<npy@> metadata lacks dtype or shape: ${JSON.stringify(m).slice(0, 120)}`);
    return new NpyRef(m, await getStore(storeOf(m, ctx)));
  }
}

export const npyCodec = new NpyCodec();
